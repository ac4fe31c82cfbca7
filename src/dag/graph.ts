/** Task-graph helpers over `downstream` edges keyed by task id. Iterative, so large DAGs cannot overflow the stack. */

export type Edges = Map<string, string[]>;

/** Upstream lists derived from every task's downstream list, in task order. */
export function deriveUpstream(downstream: Edges): Edges {
  const upstream: Edges = new Map();
  downstream.forEach((_, id) => upstream.set(id, []));
  // forEach, not for-of: a Map iterator allocates an entry per task.
  downstream.forEach((children, id) => {
    for (let i = 0; i < children.length; i++) upstream.get(children[i])?.push(id);
  });
  return upstream;
}

/**
 * Kahn's algorithm, ties broken by task order so the result is stable across loads. Returns the
 * order, or one cycle (first task repeated at the end) when the graph is not a DAG. The smallest
 * ready position is found by a cursor that scans positions once; only a task that becomes ready
 * behind the cursor (listed before a task it depends on) goes to a min-heap. Files mostly list
 * tasks after their upstreams, so the heap stays small (re-sorting a ready list made a wide DAG
 * quadratic; a heap of every task cost a log factor per task).
 */
export function topologicalOrder(downstream: Edges): { order: string[] } | { cycle: string[] } {
  const ids = [...downstream.keys()];
  const lists = [...downstream.values()];
  const position = new Map<string, number>();
  for (let i = 0; i < ids.length; i++) position.set(ids[i], i);
  const indegree = new Int32Array(ids.length);
  for (let p = 0; p < lists.length; p++) {
    const children = lists[p];
    for (let i = 0; i < children.length; i++) indegree[position.get(children[i])!]++;
  }
  // Ready at or after the cursor: indegree 0 and not yet in the order (marked -1 once emitted).
  const behind = new MinHeap();
  let cursor = 0;
  const order: string[] = [];
  for (;;) {
    let p: number;
    if (behind.size > 0)
      p = behind.pop(); // every heap entry lies before the cursor
    else {
      while (cursor < ids.length && indegree[cursor] !== 0) cursor++;
      if (cursor === ids.length) break;
      p = cursor++;
    }
    indegree[p] = -1;
    order.push(ids[p]);
    const children = lists[p];
    for (let i = 0; i < children.length; i++) {
      const c = position.get(children[i])!;
      if (--indegree[c] === 0 && c < cursor) behind.push(c);
    }
  }
  if (order.length === downstream.size) return { order };
  const done = new Set(order);
  const left = new Set(ids.filter((id) => !done.has(id)));
  return { cycle: findCycle(downstream, left) };
}

/** A binary min-heap of non-negative integers. */
class MinHeap {
  private readonly items: number[] = [];

  get size(): number {
    return this.items.length;
  }

  push(v: number): void {
    const a = this.items;
    let i = a.push(v) - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (a[parent] <= v) break;
      a[i] = a[parent];
      i = parent;
    }
    a[i] = v;
  }

  pop(): number {
    const a = this.items;
    const top = a[0];
    const last = a.pop()!;
    if (a.length > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= a.length) break;
        const c = l + 1 < a.length && a[l + 1] < a[l] ? l + 1 : l;
        if (a[c] >= last) break;
        a[i] = a[c];
        i = c;
      }
      a[i] = last;
    }
    return top;
  }
}

/** Every node left after Kahn's algorithm has an edge to another left node; walk until one repeats. */
function findCycle(downstream: Edges, left: Set<string>): string[] {
  const path: string[] = [];
  const seenAt = new Map<string, number>();
  let id = [...left][0];
  while (!seenAt.has(id)) {
    seenAt.set(id, path.length);
    path.push(id);
    id = (downstream.get(id) ?? []).find((c) => left.has(c))!;
  }
  return [...path.slice(seenAt.get(id)), id];
}

/** All tasks upstream of any of `ids`, transitively (one walk for all of them, so selections stay linear). */
export function ancestors(upstream: Edges, ids: string | Iterable<string>): Set<string> {
  const seen = new Set<string>();
  const stack: string[] = [];
  // A loop, not push(...list): a fan-in of 100,000+ upstreams would overflow the argument list.
  for (const id of typeof ids === 'string' ? [ids] : ids) for (const u of upstream.get(id) ?? []) stack.push(u);
  while (stack.length > 0) {
    const u = stack.pop()!;
    if (seen.has(u)) continue;
    seen.add(u);
    for (const p of upstream.get(u) ?? []) if (!seen.has(p)) stack.push(p);
  }
  return seen;
}

/** All tasks downstream of any of `ids`, transitively. */
export function descendants(downstream: Edges, ids: string | Iterable<string>): Set<string> {
  return ancestors(downstream, ids);
}

/**
 * Whether `target` is upstream of `id`. Stops at the first path found: an XCom reference usually
 * names a direct upstream, so this is cheap where computing every task's ancestors was quadratic.
 */
export function isUpstream(upstream: Edges, target: string, id: string): boolean {
  const seen = new Set<string>();
  const stack = [...(upstream.get(id) ?? [])];
  while (stack.length > 0) {
    const u = stack.pop()!;
    if (u === target) return true;
    if (seen.has(u)) continue;
    seen.add(u);
    for (const p of upstream.get(u) ?? []) if (!seen.has(p)) stack.push(p);
  }
  return false;
}

/**
 * Each task's layer: 0 for a task with no upstream, else one more than its deepest upstream (the
 * longest path from a root). `order` must be topological.
 */
export function layersOf(order: readonly string[], upstream: Edges): string[][] {
  const layer = new Map<string, number>();
  const layers: string[][] = [];
  for (const id of order) {
    let n = 0; // a loop, not Math.max(...spread): a fan-in of 100,000 upstreams would overflow the stack
    for (const u of upstream.get(id) ?? []) n = Math.max(n, (layer.get(u) ?? 0) + 1);
    layer.set(id, n);
    (layers[n] ??= []).push(id);
  }
  return layers;
}
