import type { Json } from '../dag/model.js';
import { canonicalJson, sha256Hex } from './canonical.js';
import type { CacheKey, KeyComponent } from './types.js';
import { errorMessage } from '../errors.js';

export interface CacheKeyParts {
  teamName: string | null;
  dagId: string;
  taskId: string;
  sourceHash: string;
  /** Bundle-relative path -> sha256 of each file of the task's code (when it imports local modules). */
  sourceFiles?: Record<string, string>;
  /** The task's cache `version`. */
  version: string;
  /** The task's inputs after templating and XCom resolution (`op_args`, `op_kwargs`, `env`, ...). */
  inputs: { [field: string]: Json | undefined };
  /** The task's `exclude_inputs`. */
  exclude: string[];
  /** The task's `include_inputs`, resolved: name -> value (undefined = absent in this run's context). */
  included: { [name: string]: Json | undefined };
  /** Variables the task's templates read: key -> value (null = absent), one component `var.KEY` each. */
  variables?: { [key: string]: Json };
  /** `cache.input_files`: display path -> fingerprint, one component `file.<path>` each. */
  files?: { [path: string]: Json };
  /** `cache.outputs` as declared (unrendered): declaring outputs misses once, so the entry records them. */
  outputs?: string[];
}

/** Order in which input components are listed (for reading; the key itself sorts by name). */
const FIELD_ORDER = ['op_args', 'op_kwargs', 'bash_command', 'env', 'cwd', 'filepath'];
/** Input fields whose entries become one component each, so one kwarg or variable can be excluded or explained. */
const SPLIT_FIELDS = new Set(['op_kwargs', 'env']);

/**
 * A component hashed here. Its hash is sha256 hex by construction, and the canonical text of its
 * value is kept (a miss's store reuses it: componentsJson), as is its [name, hash] text for keyOf:
 * the components a DAG's tasks share (team, dag_id, source, version) are then written once, not
 * once per task instance. Private fields stay out of Object.keys, JSON and equality checks, so it
 * reads as the plain {name, hash, value} it is; the kept texts are used only while name and hash
 * are still the ones they were made from.
 */
class HashedComponent implements KeyComponent {
  readonly #name: string;
  readonly #hash: string;
  readonly #valueText: string;
  #pairText: string | null | undefined;

  constructor(
    public name: string,
    public hash: string,
    public value: Json,
    valueText: string,
  ) {
    this.#name = name;
    this.#hash = hash;
    this.#valueText = valueText;
  }

  /** The canonical text of the value, when name and hash are still this component's own. */
  static valueText(c: KeyComponent): string | undefined {
    return c instanceof HashedComponent && c.name === c.#name && c.hash === c.#hash ? c.#valueText : undefined;
  }

  /** `["name","hash"]` as JSON (null: the name has a lone surrogate), or undefined when not known here. */
  static pairText(c: KeyComponent): string | null | undefined {
    if (!(c instanceof HashedComponent) || c.name !== c.#name || c.hash !== c.#hash) return undefined;
    if (c.#pairText === undefined) {
      const name = nameJson(c.name);
      c.#pairText = name === null ? null : `[${name},"${c.hash}"]`;
    }
    return c.#pairText;
  }
}

function component(name: string, value: Json): KeyComponent {
  try {
    const text = canonicalJson(value);
    return new HashedComponent(name, sha256Hex(text), value, text);
  } catch (err) {
    throw new TypeError(`cache key component '${name}' has no canonical JSON form: ${errorMessage(err)}`, {
      cause: err,
    });
  }
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
function hasLoneSurrogate(s: string): boolean {
  return LONE_SURROGATE.test(s);
}

function isObject(value: Json | undefined): value is { [k: string]: Json } {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Whether an input component is named by `exclude_inputs`. A bare name removes a whole field
 * (`env`, `op_args`, ...) and a kwarg of that name; `env.NAME` / `op_kwargs.NAME` are the precise forms.
 */
function excludedBy(exclude: Set<string>, field: string, entry?: string): boolean {
  if (exclude.has(field)) return true;
  if (entry === undefined) return false;
  if (exclude.has(`${field}.${entry}`)) return true;
  return field === 'op_kwargs' && exclude.has(entry);
}

function inputComponents(inputs: CacheKeyParts['inputs'], exclude: Set<string>): KeyComponent[] {
  const extra = Object.keys(inputs)
    .filter((f) => !FIELD_ORDER.includes(f))
    .sort();
  const out: KeyComponent[] = [];
  for (const field of [...FIELD_ORDER, ...extra]) {
    const value = inputs[field];
    if (value === undefined) continue;
    if (SPLIT_FIELDS.has(field) && isObject(value)) {
      for (const entry of Object.keys(value).sort()) {
        if (value[entry] === undefined || excludedBy(exclude, field, entry)) continue;
        out.push(component(`input.${field}.${entry}`, value[entry]));
      }
    } else if (!excludedBy(exclude, field)) {
      out.push(component(`input.${field}`, value));
    }
  }
  return out;
}

/**
 * The cache key of one task instance: one hashed component per identity part, input and included
 * context field, then one hash over the sorted (name, hash) pairs. Pure and allocation-light: it runs
 * on the scheduler's hot path for every cache-enabled task instance.
 */
export function computeCacheKey(p: CacheKeyParts, identity: KeyComponent[] = identityComponents(p)): CacheKey {
  const exclude = new Set(p.exclude);
  const components: KeyComponent[] = [...identity, ...inputComponents(p.inputs, exclude)];
  for (const name of Object.keys(p.included).sort()) {
    // An absent context field is a value of its own: adding the field later must miss.
    components.push(component(`include.${name}`, p.included[name] ?? null));
  }
  // A variable read by a template is a component even when the rendered text hides its value.
  for (const name of Object.keys(p.variables ?? {}).sort())
    components.push(component(`var.${name}`, p.variables![name]));
  for (const path of Object.keys(p.files ?? {}).sort()) components.push(component(`file.${path}`, p.files![path]));
  if (p.outputs && p.outputs.length > 0) components.push(component('outputs', p.outputs));
  return { key: keyOf(components), components };
}

/**
 * The components that name the task and its code, the same for every instance of a task in a DAG
 * load: the decider computes them once per task (CacheDecider.keyFor) instead of once per instance.
 */
export function identityComponents(
  p: Pick<CacheKeyParts, 'teamName' | 'dagId' | 'taskId' | 'sourceHash' | 'sourceFiles' | 'version'>,
): KeyComponent[] {
  return [
    sharedComponent('team_name', p.teamName),
    sharedComponent('dag_id', p.dagId),
    component('task_id', p.taskId),
    sharedComponent('source', p.sourceHash),
    sharedComponent('version', p.version),
    // One per file, so a miss names the edited file; `source` already covers them.
    ...Object.keys(p.sourceFiles ?? {})
      .sort()
      .map((f) => sharedComponent(`source_file.${f}`, p.sourceFiles![f])),
  ];
}

/**
 * Components most tasks of a DAG share (its id, team, source, version): hashed once per value. By
 * name, then value: the task's own strings are the keys, whose hashes V8 keeps, where a joined
 * `name + value` id was a new string to hash on every call (about 10% of keying a task).
 */
const shared = new Map<string, Map<string | null, KeyComponent>>();
let sharedCount = 0;
const SHARED_MAX = 10_000;
function sharedComponent(name: string, value: string | null): KeyComponent {
  let byValue = shared.get(name);
  let c = byValue?.get(value);
  if (!c) {
    if (sharedCount >= SHARED_MAX) {
      shared.clear();
      sharedCount = 0;
      byValue = undefined;
    }
    c = component(name, value);
    if (!byValue) shared.set(name, (byValue = new Map<string | null, KeyComponent>()));
    byValue.set(value, c);
    sharedCount++;
  }
  return c;
}

/** The combined hash over components; independent of their order. */
export function keyOf(components: KeyComponent[]): string {
  const sorted = sortedByName(components);
  // Names and hashes are well-formed strings: their canonical JSON (RFC 8785) is JSON.stringify's,
  // written here pair by pair (the same text as JSON.stringify of the [name, hash] pairs) and
  // joined once: it runs for every task instance.
  const pairs: string[] = new Array<string>(sorted.length);
  for (let i = 0; i < sorted.length; i++) {
    const c = sorted[i];
    let pair = HashedComponent.pairText(c);
    if (pair === undefined) {
      const name = nameJson(c.name);
      pair = name === null ? null : `[${name},${JSON.stringify(c.hash)}]`;
    }
    if (pair === null) return sha256Hex(canonicalJson(sorted.map((s) => [s.name, s.hash])));
    pairs[i] = pair;
  }
  return sha256Hex(`[${pairs.join(',')}]`);
}

/** A copy sorted by name: an insertion sort, as a key has a handful of components (sort() allocates a buffer). */
function sortedByName(components: KeyComponent[]): KeyComponent[] {
  const out = components.slice();
  for (let i = 1; i < out.length; i++) {
    const c = out[i];
    let j = i - 1;
    for (; j >= 0 && out[j].name > c.name; j--) out[j + 1] = out[j];
    out[j + 1] = c;
  }
  return out;
}

/**
 * Component names repeat across every instance of a task: each one's JSON text is written once,
 * null for a name with a lone surrogate (whose canonical form JSON.stringify does not give).
 */
const nameTexts = new Map<string, string | null>();
function nameJson(name: string): string | null {
  let text = nameTexts.get(name);
  if (text === undefined) {
    text = hasLoneSurrogate(name) ? null : JSON.stringify(name);
    if (nameTexts.size >= SHARED_MAX) nameTexts.clear();
    nameTexts.set(name, text);
  }
  return text;
}

/**
 * `canonicalJson(components)`, the same text, from the value texts kept when the components were
 * hashed: a miss's store would otherwise canonicalize every value a second time on the scheduler's
 * thread. Keys sort as hash, name, value; a component not made here is canonicalized whole.
 */
export function componentsJson(components: KeyComponent[]): string {
  const parts: string[] = new Array<string>(components.length);
  for (let i = 0; i < components.length; i++) {
    const c = components[i];
    const value = HashedComponent.valueText(c);
    const name = value === undefined ? null : nameJson(c.name);
    parts[i] =
      value === undefined || name === null || Object.keys(c).length !== 3
        ? canonicalJson(c)
        : `{"hash":"${c.hash}","name":${name},"value":${value}}`;
  }
  return `[${parts.join(',')}]`;
}

export interface ComponentDiff {
  name: string;
  /** Absent when the component exists only in `b`. */
  before?: Json;
  /** Absent when the component exists only in `a`. */
  after?: Json;
}

/** The components that differ between two keys (changed, added or removed), in `a`'s order then `b`'s. */
export function diffComponents(a: KeyComponent[], b: KeyComponent[]): ComponentDiff[] {
  const after = new Map(b.map((c) => [c.name, c]));
  const before = new Map(a.map((c) => [c.name, c]));
  const out: ComponentDiff[] = [];
  for (const c of a) {
    const other = after.get(c.name);
    if (!other) out.push({ name: c.name, before: c.value });
    else if (other.hash !== c.hash) out.push({ name: c.name, before: c.value, after: other.value });
  }
  for (const c of b) if (!before.has(c.name)) out.push({ name: c.name, after: c.value });
  return out;
}
