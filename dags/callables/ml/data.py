"""ml_pipeline: the fetch step. Stdlib only, so the example runs on a fresh clone without network.

The "source" is a synthetic housing dataset generated from a seed: the same (source, n_rows, seed)
always gives the same rows, which is what makes the step safe to cache.
"""
import random
import sys


def fetch(source, n_rows, seed, request_id):
    # request_id is for the audit trail only; it is in cache.exclude_inputs, so a new id still hits.
    print("fetching %s rows of %s (request %s)" % (n_rows, source, request_id), file=sys.stderr)
    rng = random.Random("%s:%s" % (source, seed))
    rows = []
    for _ in range(int(n_rows)):
        size = rng.uniform(30, 220)
        rooms = rng.randint(1, 7)
        age = rng.uniform(0, 80)
        distance = rng.uniform(0.5, 40)
        # A few hundred thousand float operations: the "download and parse" cost of the step.
        noise = sum(rng.gauss(0, 1) for _ in range(400)) / 20
        price = 1800 * size + 9000 * rooms - 700 * age - 2500 * distance + 4000 * noise
        rows.append([round(size, 2), rooms, round(age, 2), round(distance, 2), round(price, 2)])
    return {"source": source, "columns": ["size", "rooms", "age", "distance", "price"], "rows": rows}
