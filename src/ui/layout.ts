/** A layered layout of a DAG: a task's column is its longest path from a root; rows in task order. */
export interface NodeBox {
  id: string;
  x: number;
  y: number;
}

export const NODE_W = 150;
export const NODE_H = 44;
const GAP_X = 60;
const GAP_Y = 20;

export function layoutDag(order: string[], downstream: Map<string, string[]>) {
  const layer = new Map(order.map((id) => [id, 0]));
  // `order` is topological, so one pass settles every longest path.
  for (const id of order)
    for (const d of downstream.get(id) ?? []) layer.set(d, Math.max(layer.get(d) ?? 0, layer.get(id)! + 1));
  const rows = new Map<number, number>();
  const nodes: NodeBox[] = order.map((id) => {
    const col = layer.get(id)!;
    const row = rows.get(col) ?? 0;
    rows.set(col, row + 1);
    return { id, x: 10 + col * (NODE_W + GAP_X), y: 10 + row * (NODE_H + GAP_Y) };
  });
  const cols = Math.max(0, ...layer.values()) + 1;
  const maxRows = Math.max(1, ...rows.values());
  return {
    nodes,
    width: 20 + cols * NODE_W + (cols - 1) * GAP_X,
    height: 20 + maxRows * NODE_H + (maxRows - 1) * GAP_Y,
  };
}
