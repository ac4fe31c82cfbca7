import { RenderFailure } from './engine.js';
import { parse, tokenize, type Program } from './jinja-runtime.js';

type Node = { type: string } | undefined;

/** Statements that are not printed expressions. */
const STATEMENTS = new Set([
  'Set',
  'If',
  'For',
  'Macro',
  'CallStatement',
  'FilterStatement',
  'Break',
  'Continue',
  'Comment',
]);
const BLOCK_FIELDS = ['body', 'alternate', 'defaultBlock'] as const;

/** Marks every printed expression, so printing goes through BoundedInterpreter.print. */
function markPrints(statements: Node[]): Node[] {
  return statements.map((s) => {
    const n = s as unknown as { type: string } & Partial<Record<(typeof BLOCK_FIELDS)[number], Node[]>>;
    if (!STATEMENTS.has(n.type)) return { type: '__print', expr: s } as unknown as Node;
    for (const field of BLOCK_FIELDS) {
      const block = n[field];
      if (Array.isArray(block)) n[field] = markPrints(block);
    }
    return s;
  });
}

/** Compiled templates by source text; rendering is on the scheduler's hot path. */
const MAX_CACHED_TEMPLATES = 1000;
const compiled = new Map<string, Program>();

export function compile(source: string): Program {
  const hit = compiled.get(source);
  if (hit) {
    // Re-insert so Map order tracks recency and eviction drops the least recently used.
    compiled.delete(source);
    compiled.set(source, hit);
    return hit;
  }
  let program: Program;
  try {
    program = parse(tokenize(source, { lstrip_blocks: false, trim_blocks: false }));
    program.body = markPrints(program.body as unknown as Node[]);
  } catch (err) {
    throw new RenderFailure(`syntax error: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (compiled.size >= MAX_CACHED_TEMPLATES) compiled.delete(compiled.keys().next().value as string);
  compiled.set(source, program);
  return program;
}

export function compiledTemplateCount(): number {
  return compiled.size;
}
