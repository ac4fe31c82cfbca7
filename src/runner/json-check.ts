/**
 * Why a value would not survive a JSON round trip unchanged, or undefined when it would.
 * JSON.stringify silently turns NaN into null, drops undefined properties and calls toJSON on
 * Dates; an XCom (and a cached result) must be exactly what the task returned, so those are
 * rejected with the path of the first offending value, e.g. `NaN at $.metrics.loss`.
 */
export function jsonProblem(value: unknown, path = '$', ancestors: object[] = []): string | undefined {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return undefined;
    case 'number':
      return Number.isFinite(value) ? undefined : `${value} at ${path}`;
    case 'bigint':
      return `BigInt at ${path}`;
    case 'function':
    case 'symbol':
    case 'undefined':
      return `${typeof value} at ${path}`;
  }
  if (value === null) return undefined;
  const obj = value as object;
  if (ancestors.includes(obj)) return `circular reference at ${path}`;
  const inner = [...ancestors, obj];
  if (Array.isArray(obj)) {
    for (let i = 0; i < obj.length; i++) {
      const problem = jsonProblem(obj[i], `${path}[${i}]`, inner);
      if (problem) return problem;
    }
    return undefined;
  }
  const proto = Object.getPrototypeOf(obj) as { constructor?: { name?: string } } | null;
  if (proto !== Object.prototype && proto !== null) {
    return `${proto.constructor?.name ?? 'non-plain object'} at ${path}`;
  }
  for (const [key, v] of Object.entries(obj)) {
    const step = /^[A-Za-z_$][\w$]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
    const problem = jsonProblem(v, path + step, inner);
    if (problem) return problem;
  }
  return undefined;
}
