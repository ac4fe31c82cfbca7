import nunjucks from 'nunjucks';
import type { TemplateContext } from './context.js';

// One shared environment. throwOnUndefined stands in for Airflow's StrictUndefined: outputting an
// unknown variable is an error instead of an empty string.
const environment = new nunjucks.Environment(null, { autoescape: false, throwOnUndefined: true });

/** Rendering is on the scheduler's hot path: compiled templates are kept by source text. */
const MAX_CACHED_TEMPLATES = 1000;
const compiled = new Map<string, nunjucks.Template>();

/** Strings without template markers are returned as they are, without touching nunjucks. */
export function isTemplated(source: string): boolean {
  return source.includes('{{') || source.includes('{%') || source.includes('{#');
}

function compile(source: string): nunjucks.Template {
  const hit = compiled.get(source);
  if (hit) {
    // Re-insert so Map order tracks recency and eviction drops the least recently used.
    compiled.delete(source);
    compiled.set(source, hit);
    return hit;
  }
  const template = new nunjucks.Template(source, environment, undefined, true);
  if (compiled.size >= MAX_CACHED_TEMPLATES) compiled.delete(compiled.keys().next().value as string);
  compiled.set(source, template);
  return template;
}

/** Thrown by renderTemplate; `message` is one line without nunjucks' "(unknown path)" noise. */
export class RenderFailure extends Error {}

/** Renders `source` against the context; plain strings come back untouched. */
export function renderTemplate(source: string, ctx: TemplateContext): string {
  if (!isTemplated(source)) return source;
  try {
    return compile(source).render(ctx);
  } catch (err) {
    throw new RenderFailure(describe(err, source, ctx));
  }
}

/** Number of compiled templates held (for tests of the cache bound). */
export function compiledTemplateCount(): number {
  return compiled.size;
}

function describe(err: unknown, source: string, ctx: TemplateContext): string {
  const raw = err instanceof Error ? err.message : String(err);
  const message = raw
    .replace(/^\(unknown path\)\s*/, '')
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean)
    .join(' ')
    .replace(/(^|\] )Error: /, '$1');
  if (!message.includes('null or undefined value')) return message;
  const unknown = unknownNames(source, ctx);
  return unknown.length
    ? `${message}: unknown variable ${unknown.map((n) => `'${n}'`).join(', ')}`
    : `${message} (an attribute is missing or a value is null)`;
}

interface AstNode {
  typename?: string;
  value?: unknown;
  fields?: string[];
  children?: unknown[];
  [field: string]: unknown;
}

/** Top-level names the template reads that are neither in the context nor bound by set/for. */
function unknownNames(source: string, ctx: TemplateContext): string[] {
  let root: AstNode;
  try {
    // The parser is public in nunjucks but missing from its type definitions.
    root = (nunjucks as unknown as { parser: { parse(src: string): AstNode } }).parser.parse(source);
  } catch {
    return [];
  }
  const read = new Set<string>();
  const bound = new Set<string>();
  const visit = (node: unknown, binding = false): void => {
    if (Array.isArray(node)) return node.forEach((n) => visit(n, binding));
    if (!node || typeof node !== 'object') return;
    const n = node as AstNode;
    if (n.typename === 'Symbol' && typeof n.value === 'string') (binding ? bound : read).add(n.value);
    for (const field of n.fields ?? []) {
      const isTarget = (n.typename === 'Set' && field === 'targets') || (n.typename === 'For' && field === 'name');
      visit(n[field], isTarget);
    }
    if (n.children) visit(n.children);
  };
  visit(root);
  const known = new Set(Object.keys(ctx));
  const globals = (environment as unknown as { globals: Record<string, unknown> }).globals;
  return [...read].filter((name) => !known.has(name) && !bound.has(name) && !(name in globals));
}
