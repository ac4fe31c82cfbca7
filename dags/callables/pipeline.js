// NodeOperator callables of example_pipeline: each is called with its resolved op_kwargs.
export function summarize({ rows, scored }) {
  const values = String(rows).split(',').map(Number);
  const total = values.reduce((a, b) => a + b, 0);
  return { count: values.length, total, scored, mean: total / values.length };
}
