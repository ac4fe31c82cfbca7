// ml_pipeline: feature engineering in Node. Standardises the raw columns, adds polynomial terms of
// the given degree and a k-nearest-neighbour density score, then splits train / test.

function standardise(columns) {
  return columns.map((col) => {
    const mean = col.reduce((a, b) => a + b, 0) / col.length;
    const sd = Math.sqrt(col.reduce((a, b) => a + (b - mean) ** 2, 0) / col.length) || 1;
    return { values: col.map((v) => (v - mean) / sd), mean, sd };
  });
}

/** Mean distance to the k nearest rows: O(n^2 log n), the step's real CPU cost. */
function knnScore(points, k) {
  return points.map((p, i) => {
    const d = [];
    for (let j = 0; j < points.length; j++) {
      if (j === i) continue;
      let s = 0;
      for (let c = 0; c < p.length; c++) s += (p[c] - points[j][c]) ** 2;
      d.push(Math.sqrt(s));
    }
    d.sort((a, b) => a - b);
    return d.slice(0, k).reduce((a, b) => a + b, 0) / k;
  });
}

const round = (v) => Math.round(v * 1e4) / 1e4;

export function buildFeatures({ dataset, degree }) {
  const raw = dataset.columns.slice(0, -1);
  const cols = raw.map((_, c) => dataset.rows.map((r) => r[c]));
  const std = standardise(cols);
  const points = dataset.rows.map((_, i) => std.map((s) => s.values[i]));
  const density = standardise([knnScore(points, 10)])[0].values;
  const names = [...raw];
  const x = points.map((p) => [...p]);
  for (let power = 2; power <= Number(degree); power++) {
    raw.forEach((name, c) => {
      names.push(`${name}^${power}`);
      x.forEach((row, i) => row.push(points[i][c] ** power));
    });
  }
  names.push('knn_density');
  x.forEach((row, i) => row.push(density[i]));
  const price = standardise([dataset.rows.map((r) => r[r.length - 1])])[0].values;
  const cut = Math.floor(x.length * 0.8);
  const pack = (a, b) => ({ x: x.slice(a, b).map((r) => r.map(round)), y: price.slice(a, b).map(round) });
  return { names, degree: Number(degree), train: pack(0, cut), test: pack(cut, x.length) };
}
