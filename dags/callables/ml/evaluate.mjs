// ml_pipeline: evaluation in Node: test-set RMSE and R^2, plus permutation importance per feature.

function predict(w, b, x) {
  return x.map((row) => row.reduce((s, v, j) => s + v * w[j], b));
}

function rmse(pred, y) {
  return Math.sqrt(pred.reduce((s, p, i) => s + (p - y[i]) ** 2, 0) / y.length);
}

/** A seeded PRNG (mulberry32) so the importance ranking is the same on every run. */
function rng(seed) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function evaluate({ features, trained }) {
  const { x, y } = features.test;
  const { weights: w, bias: b } = trained;
  const base = rmse(predict(w, b, x), y);
  const mean = y.reduce((a, v) => a + v, 0) / y.length;
  const total = y.reduce((s, v) => s + (v - mean) ** 2, 0);
  const r2 = 1 - (base ** 2 * y.length) / total;
  const random = rng(42);
  const importance = features.names.map((feature, j) => {
    let loss = 0;
    const repeats = 300;
    for (let r = 0; r < repeats; r++) {
      const shuffled = x.map((row) => row[j]);
      for (let i = shuffled.length - 1; i > 0; i--) {
        const k = Math.floor(random() * (i + 1));
        [shuffled[i], shuffled[k]] = [shuffled[k], shuffled[i]];
      }
      loss +=
        rmse(
          predict(
            w,
            b,
            x.map((row, i) => row.map((v, c) => (c === j ? shuffled[i] : v))),
          ),
          y,
        ) - base;
    }
    return { feature, rmse_increase: Math.round((loss / repeats) * 1e4) / 1e4 };
  });
  importance.sort((a, b) => b.rmse_increase - a.rmse_increase);
  return { rmse: Math.round(base * 1e4) / 1e4, r2: Math.round(r2 * 1e4) / 1e4, n_test: y.length, importance };
}
