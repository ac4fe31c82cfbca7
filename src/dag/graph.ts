/** Task-graph helpers over `downstream` edges keyed by task id. Iterative, so large DAGs cannot overflow the stack. */

export type Edges = Map<string, string[]>;

/** Upstream lists derived from every task's downstream list, in task order. */
export function deriveUpstream(downstream: Edges): Edges {
  const upstream: Edges = new Map([...downstream.keys()].map((id) => [id, []]));
  for (const [id, children] of downstream) {
    for (const child of children) upstream.get(child)?.push(id);
  }
  return upstream;
}

/**
 * Kahn's algorithm, ties broken by task order so the result is stable across loads. Returns the
 * order, or one cycle (first task repeated at the end) when the graph is not a DAG.
 */
export function topologicalOrder(downstream: Edges): { order: string[] } | { cycle: string[] } {
  const ids = [...downstream.keys()];
  const position = new Map(ids.map((id, i) => [id, i]));
  const indegree = new Array<number>(ids.length).fill(0);
  for (const children of downstream.values()) for (const c of children) indegree[position.get(c)!]++;
  // A min-heap of positions: the earliest ready task in file order comes next (linear-logarithmic).
  const heap: number[] = [];
  const push = (v: number) => {
    let i = heap.push(v) - 1;
    while (i > 0 && heap[(i - 1) >> 1] > heap[i]) {
      [heap[i], heap[(i - 1) >> 1]] = [heap[(i - 1) >> 1], heap[i]];
      i = (i - 1) >> 1;
    }
  };
  const pop = (): number => {
    const top = heap[0];
    const last = heap.pop()!;
    if (heap.length > 0) {
      heap[0] = last;
      for (let i = 0; ; ) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < heap.length && heap[l] < heap[m]) m = l;
        if (r < heap.length && heap[r] < heap[m]) m = r;
        if (m === i) break;
        [heap[i], heap[m]] = [heap[m], heap[i]];
        i = m;
      }
    }
    return top;
  };
  ids.forEach((_, i) => indegree[i] === 0 && push(i));
  const order: string[] = [];
  while (heap.length > 0) {
    const id = ids[pop()];
    order.push(id);
    for (const c of downstream.get(id) ?? []) if (--indegree[position.get(c)!] === 0) push(position.get(c)!);
  }
  if (order.length === downstream.size) return { order };
  const done = new Set(order);
  const left = new Set(ids.filter((id) => !done.has(id)));
  return { cycle: findCycle(downstream, left) };
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

/** All tasks upstream of `id`, transitively. */
export function ancestors(upstream: Edges, id: string): Set<string> {
  const seen = new Set<string>();
  const stack = [...(upstream.get(id) ?? [])];
  while (stack.length > 0) {
    const u = stack.pop()!;
    if (seen.has(u)) continue;
    seen.add(u);
    stack.push(...(upstream.get(u) ?? []));
  }
  return seen;
}

/** All tasks downstream of `id`, transitively. */
export function descendants(downstream: Edges, id: string): Set<string> {
  return ancestors(downstream, id);
}

/**
 * Each task's layer: 0 for a task with no upstream, else one more than its deepest upstream (the
 * longest path from a root). `order` must be topological.
 */
export function layersOf(order: readonly string[], upstream: Edges): string[][] {
  const layer = new Map<string, number>();
  const layers: string[][] = [];
  for (const id of order) {
    const n = Math.max(-1, ...(upstream.get(id) ?? []).map((u) => layer.get(u) ?? 0)) + 1;
    layer.set(id, n);
    (layers[n] ??= []).push(id);
  }
  return layers;
}
