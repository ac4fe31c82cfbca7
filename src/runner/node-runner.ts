/**
 * Child entry point for NodeOperator: imports a module by file path, calls one export with the
 * task's op_args / op_kwargs and reports its JSON return value on fd 3 (see protocol.ts).
 */
import { pathToFileURL } from 'node:url';
import { jsonProblem } from './json-check.js';
import { finish, readStdinJson } from './protocol.js';

interface NodeCallSpec {
  file: string;
  name: string;
  args: unknown[];
  kwargs: Record<string, unknown>;
}

type Callable = (...args: unknown[]) => unknown;

/** The export `name`, else `default[name]` (CommonJS modules), else `default` when name is 'default'. */
function pick(mod: Record<string, unknown>, name: string): { fn: unknown; self: unknown } {
  if (name in mod) return { fn: mod[name], self: undefined };
  const def = mod.default as Record<string, unknown> | undefined;
  if (def !== null && (typeof def === 'object' || typeof def === 'function') && name in def) {
    return { fn: def[name], self: def };
  }
  return { fn: undefined, self: undefined };
}

let label = 'the callable';

async function main(): Promise<void> {
  const spec = await readStdinJson<NodeCallSpec>();
  label = `${spec.name}()`;
  const mod = (await import(pathToFileURL(spec.file).href)) as Record<string, unknown>;
  const { fn, self } = pick(mod, spec.name);
  if (typeof fn !== 'function') {
    finish({ ok: false, error: `${spec.file} has no exported function '${spec.name}'` });
  }
  const args = spec.args ?? [];
  const kwargs = spec.kwargs ?? {};
  // Airflow passes op_kwargs as keyword arguments; JavaScript has none, so they arrive as the last argument.
  const value = await (fn as Callable).apply(self, args.length > 0 ? [...args, kwargs] : [kwargs]);
  if (value === undefined) finish({ ok: true });
  const problem = jsonProblem(value);
  if (problem) finish({ ok: false, error: `return value of ${label} is not JSON: ${problem}` });
  finish({ ok: true, value });
}

main().catch((err: unknown) => {
  // The stack goes to stderr, i.e. the task log; the result line carries the one-line reason.
  console.error(err instanceof Error ? err.stack : err);
  const message = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  finish({ ok: false, error: `${label} raised ${message.split('\n')[0]}` });
});
