# PythonOperator callables of example_pipeline.
def score(rows, ds):
    values = [int(r) for r in rows.split(",")]
    return {"ds": ds, "max": max(values), "min": min(values)}
