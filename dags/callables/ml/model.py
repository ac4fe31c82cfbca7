"""ml_pipeline: train a linear model by gradient descent and write the report. Stdlib only."""
import json
import os
import sys

MODELS = {
    # name: (L2 penalty, L1 penalty)
    "ridge": (0.1, 0.0),
    "lasso": (0.0, 0.05),
    "linear": (0.0, 0.0),
}


def train(features, model, epochs):
    if model not in MODELS:
        raise ValueError("unknown model %r; choose one of %s (dag_run.conf.model)" % (model, ", ".join(sorted(MODELS))))
    l2, l1 = MODELS[model]
    x = features["train"]["x"]
    y = features["train"]["y"]
    n, d = len(x), len(x[0])
    w = [0.0] * d
    b = 0.0
    lr = 0.05
    for epoch in range(int(epochs)):
        grad = [0.0] * d
        gb = 0.0
        for xi, yi in zip(x, y):
            err = sum(wj * xj for wj, xj in zip(w, xi)) + b - yi
            for j in range(d):
                grad[j] += err * xi[j]
            gb += err
        for j in range(d):
            penalty = l2 * w[j] + l1 * (1 if w[j] > 0 else -1 if w[j] < 0 else 0)
            w[j] -= lr * (grad[j] / n + penalty)
        b -= lr * gb / n
    print("trained %s on %d rows x %d features for %s epochs" % (model, n, d, epochs), file=sys.stderr)
    return {"model": model, "weights": [round(v, 6) for v in w], "bias": round(b, 6), "epochs": int(epochs)}


def report(metrics, trained, ds):
    lines = [
        "# Model report for %s" % ds,
        "model: %s (%d epochs)" % (trained["model"], trained["epochs"]),
        "test RMSE (scaled): %.4f, R^2: %.4f" % (metrics["rmse"], metrics["r2"]),
        "most important feature: %s" % metrics["importance"][0]["feature"],
    ]
    text = "\n".join(lines)
    print(text, file=sys.stderr)
    # The report file is a side effect: the DAG declares it in cache.outputs, so a hit needs it intact.
    bundle = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    os.makedirs(os.path.join(bundle, "reports"), exist_ok=True)
    with open(os.path.join(bundle, "reports", "%s.md" % ds), "w") as f:
        f.write(text + "\n")
    return {"ds": ds, "model": trained["model"], "r2": metrics["r2"], "summary": text, "metrics": json.loads(json.dumps(metrics))}
