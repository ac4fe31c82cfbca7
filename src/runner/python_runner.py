"""Child entry point for PythonOperator (stdlib only).

Reads {file, name, args, kwargs} as JSON on stdin, loads the module from its file path, calls
fn(*args, **kwargs) and writes one JSON line on fd 3: {"ok": true, "value": ...} or
{"ok": false, "error": "..."}. The task's own stdout/stderr go to the task log.
"""
import importlib.util
import json
import math
import os
import sys
import traceback


# JavaScript reads JSON numbers as doubles: integers beyond this lose digits on the way to the XCom.
MAX_SAFE_INTEGER = 2 ** 53 - 1


def json_problem(value, path="$", ancestors=()):
    """Where a value stops being JSON faithfully (json.dumps alone does not say), e.g. 'nan at $.loss'."""
    if value is None or isinstance(value, (str, bool)):
        return None
    if isinstance(value, int):
        if abs(value) > MAX_SAFE_INTEGER:
            return "integer %d at %s is beyond 2**53 - 1 and would lose precision (return it as a string)" % (value, path)
        return None
    if isinstance(value, float):
        return None if math.isfinite(value) else "%s at %s" % (value, path)
    if isinstance(value, (list, tuple, dict)):
        # By identity, so a value that contains itself is reported instead of recursing forever.
        if any(value is a for a in ancestors):
            return "circular reference at %s" % path
        inner = ancestors + (value,)
        if isinstance(value, dict):
            for key, item in value.items():
                if not isinstance(key, str):
                    return "non-string key %r at %s" % (key, path)
                problem = json_problem(item, "%s.%s" % (path, key), inner)
                if problem:
                    return problem
            return None
        for i, item in enumerate(value):
            problem = json_problem(item, "%s[%d]" % (path, i), inner)
            if problem:
                return problem
        return None
    return "%s at %s" % (type(value).__name__, path)


def load_callable(file, name):
    folder = os.path.dirname(os.path.abspath(file))
    # Sibling imports work as they would for a DAG file in Airflow's dags folder.
    if folder not in sys.path:
        sys.path.insert(0, folder)
    module_name = os.path.splitext(os.path.basename(file))[0]
    spec = importlib.util.spec_from_file_location(module_name, file)
    if spec is None or spec.loader is None:
        raise ImportError("cannot load %s as a Python module" % file)
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    fn = getattr(module, name, None)
    if not callable(fn):
        return None
    return fn


def main():
    out = os.fdopen(3, "w")
    label = "the callable"

    def finish(result):
        out.write(json.dumps(result) + "\n")
        out.flush()
        sys.stdout.flush()
        sys.stderr.flush()
        # Exit now, like the node runner: threads left behind by user code must not hold the try open.
        os._exit(0 if result["ok"] else 1)

    text = sys.stdin.read()
    if text == "":
        # No spec is no go: the scheduler died before recording this pid. Do nothing.
        os._exit(97)
    try:
        spec = json.loads(text)
        label = "%s()" % spec["name"]
        fn = load_callable(spec["file"], spec["name"])
        if fn is None:
            finish({"ok": False, "error": "%s has no function '%s'" % (spec["file"], spec["name"])})
        value = fn(*(spec.get("args") or []), **(spec.get("kwargs") or {}))
    except BaseException as err:  # noqa: BLE001 - any failure of user code is the task's failure
        traceback.print_exc()
        first = (str(err).splitlines() or [""])[0]
        finish({"ok": False, "error": "%s raised %s: %s" % (label, type(err).__name__, first)})

    # Airflow pushes no XCom for None: None means "no return value".
    if value is None:
        finish({"ok": True})
    problem = json_problem(value)
    if problem is None:
        try:
            line = json.dumps({"ok": True, "value": value}, allow_nan=False)
        except (TypeError, ValueError) as err:
            problem = str(err)
    if problem is not None:
        finish({"ok": False, "error": "return value of %s is not JSON: %s" % (label, problem)})
    out.write(line + "\n")
    out.flush()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
