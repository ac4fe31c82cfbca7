# PythonOperator callables of mapped_example.
def list_files(ds):
    return [f"{ds}/a.csv", f"{ds}/b.csv", f"{ds}/c.csv"]


def size_of(path, unit):
    return {"path": path, "size": len(path), "unit": unit}


def total(sizes, greetings):
    return {"files": len(sizes), "bytes": sum(s["size"] for s in sizes), "greetings": greetings}
