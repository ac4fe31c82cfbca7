import {
  ArrayValue,
  Environment,
  FunctionValue,
  Interpreter,
  ObjectValue,
  StringValue,
  UndefinedValue,
  parse,
  tokenize,
  type AnyRuntimeValue,
  type Program,
} from './jinja-runtime.js';
import { dateArithmetic } from './dates.js';

/** How far one render may go. */
export interface RenderLimits {
  /** Wall-clock deadline (performance.now() milliseconds). */
  deadline: number;
  /** Largest string (and rendered field) in bytes. */
  maxBytes: number;
  /** Steps before the render stops with `RenderBudgetExhausted` (Infinity = only the deadline). */
  maxSteps: number;
  /** Past this performance.now() time the render stops with `RenderBudgetExhausted` too. */
  yieldAt?: number;
  /** Steps spent so far, shared by every field of one task instance (the budget is per task). */
  spent?: { steps: number };
}

/** A template failed: one line a user can act on. */
export class RenderFailure extends Error {}
/** The render ran out of time or size: the task fails with the limit named. */
export class RenderLimitExceeded extends RenderFailure {}
/** The step budget of an in-process attempt ran out: the render goes on off the event loop. */
export class RenderBudgetExhausted extends Error {}

/**
 * Charges the running render for work a builtin is about to do (range() charges its length before it
 * allocates). Renders are synchronous, so the running one is well defined.
 */
let activeCharge: ((steps: number) => void) | undefined;
export function chargeRunningRender(steps: number): void {
  activeCharge?.(steps);
}
/** Largest list a template may build (concatenations included). */
const MAX_ITEMS = 100_000;
/** Strings longer than this (characters) and lists longer than LARGE_LIST are charged steps by size. */
const LARGE_STRING = 256;
const LARGE_LIST = 64;
/** How often (in steps) the clock is read. */
const CLOCK_EVERY = 256;
/** Filters whose output can be much larger than their input. */
const EXPANDING_FILTERS = new Set(['join', 'replace', 'tojson', 'indent', 'center']);

/** An undefined value that remembers what was looked up, so StrictUndefined errors can name it. */
class NamedUndefined extends UndefinedValue {
  constructor(
    readonly label: string,
    readonly isName = false,
  ) {
    super();
  }
  get message(): string {
    return this.isName ? `unknown variable '${this.label}'` : `'${this.label}' is undefined`;
  }
}

/** A node that stands for a value already evaluated (lets overrides reuse the engine's operators). */
interface ValueNode {
  type: '__value';
  value: AnyRuntimeValue;
}
/** An AST node (the package's AST types do not resolve under NodeNext). */
type Node = { type: string } | undefined;

const valueNode = (value: AnyRuntimeValue): ValueNode => ({ type: '__value', value });

/** Text of an identifier / member chain for messages (`params.nope`). */
function label(node: Node): string {
  const n = node as unknown as { type: string; value?: unknown; object?: Node; property?: Node; computed?: boolean };
  if (n.type === 'Identifier') return String(n.value);
  if (n.type === 'StringLiteral') return JSON.stringify(n.value);
  if (n.type === 'IntegerLiteral') return String(n.value);
  if (n.type === 'MemberExpression' && n.object && n.property) {
    return n.computed ? `${label(n.object)}[${label(n.property)}]` : `${label(n.object)}.${label(n.property)}`;
  }
  return '(expression)';
}

/**
 * The engine's interpreter with Jinja's StrictUndefined, date arithmetic and bounds: every
 * evaluation step counts, the clock is checked every few steps, and no string or list may outgrow
 * its limit. @huggingface/jinja itself never touches JavaScript properties of values (members are
 * Map lookups), which is what makes it a sandbox; these checks make it a bounded one.
 */
class BoundedInterpreter extends Interpreter {
  private readonly spent: { steps: number };

  constructor(
    env: Environment,
    private readonly limits: RenderLimits,
  ) {
    super(env);
    this.spent = limits.spent ?? { steps: 0 };
    // Every block is a step too, so a loop whose body evaluates nothing still counts its iterations.
    // (evaluateBlock is private in the package's types, hence the instance-level wrap.)
    const self = this as unknown as { evaluateBlock: (s: Node[], e: Environment) => AnyRuntimeValue };
    const block = self.evaluateBlock.bind(this);
    self.evaluateBlock = (statements, environment) => {
      if (++this.spent.steps % CLOCK_EVERY === 0) this.checkBudget();
      return block(statements, environment);
    };
  }

  /** The engine's own evaluation of a node. */
  private base(node: object | undefined, environment: Environment): AnyRuntimeValue {
    return super.evaluate(node, environment);
  }

  override evaluate(statement: Node, environment: Environment): AnyRuntimeValue {
    if (++this.spent.steps % CLOCK_EVERY === 0) this.checkBudget();
    if (!statement) return new UndefinedValue();
    let out: AnyRuntimeValue;
    switch (statement.type) {
      case '__value':
        return (statement as unknown as ValueNode).value;
      case 'Identifier':
        out = this.base(statement, environment);
        if (out instanceof UndefinedValue && !(out instanceof NamedUndefined))
          out = new NamedUndefined(label(statement), true);
        return out;
      case 'MemberExpression':
        out = this.member(statement, environment);
        break;
      case 'BinaryExpression':
        out = this.binary(statement, environment);
        break;
      case 'FilterExpression':
        out = this.filter(statement, environment);
        break;
      case 'For':
        return this.forLoop(statement, environment);
      case '__print':
        out = this.print(statement, environment);
        break;
      default:
        out = this.base(statement, environment);
    }
    return this.checkSize(out);
  }

  private member(statement: Node, environment: Environment): AnyRuntimeValue {
    const expr = statement as unknown as { object: Node; property: Node; computed: boolean };
    const object = this.evaluate(expr.object, environment);
    if (object instanceof NamedUndefined) throw new RenderFailure(object.message);
    if (object instanceof UndefinedValue) throw new RenderFailure(`'${label(expr.object)}' is undefined`);
    const out = this.base({ ...(statement as object), object: valueNode(object) }, environment);
    return out instanceof UndefinedValue ? new NamedUndefined(label(statement)) : out;
  }

  private binary(statement: Node, environment: Environment): AnyRuntimeValue {
    const expr = statement as unknown as { operator: { value: string }; left: Node; right: Node };
    const op = expr.operator.value;
    if (op !== '+' && op !== '-' && op !== '~') return this.base(statement, environment);
    const left = this.evaluate(expr.left, environment);
    const right = this.evaluate(expr.right, environment);
    for (const side of [left, right]) {
      if (side instanceof NamedUndefined) throw new RenderFailure(side.message);
    }
    if (op !== '~') {
      const date = dateArithmetic(op, left, right);
      if (date) return date;
    }
    // Concatenation sizes are checked before the engine builds the result.
    if (
      left instanceof ArrayValue &&
      right instanceof ArrayValue &&
      left.value.length + right.value.length > MAX_ITEMS
    ) {
      throw new RenderLimitExceeded(`a list grew past ${MAX_ITEMS} items`);
    }
    return this.base({ ...(statement as object), left: valueNode(left), right: valueNode(right) }, environment);
  }

  /** Filters whose output can be far larger than their input are checked first. */
  private filter(statement: Node, environment: Environment): AnyRuntimeValue {
    type Arg = { type: string; key?: unknown; value?: unknown };
    const expr = statement as unknown as {
      operand: Node;
      filter: { type: string; callee?: Arg; args?: Arg[]; value?: unknown };
    };
    const raw = expr.filter.type === 'CallExpression' ? expr.filter.callee?.value : expr.filter.value;
    const name = typeof raw === 'string' ? raw : '';
    if (!EXPANDING_FILTERS.has(name)) return this.base(statement, environment);
    const operand = this.evaluate(expr.operand, environment);
    if (operand instanceof NamedUndefined && name !== 'default') throw new RenderFailure(operand.message);
    const values: AnyRuntimeValue[] = [];
    const args = (expr.filter.args ?? []).map((a) => {
      const keyword = a.type === 'KeywordArgumentExpression';
      const v = this.evaluate((keyword ? a.value : a) as Node, environment);
      values.push(v);
      return keyword ? { ...a, value: valueNode(v) } : valueNode(v);
    });
    const size = (v: AnyRuntimeValue | undefined) => (v instanceof StringValue ? v.value.length : 0);
    let projected = 0;
    if (name === 'join' && operand instanceof ArrayValue) {
      projected =
        operand.value.reduce((n, v) => n + (v instanceof StringValue ? v.value.length : 24), 0) +
        operand.value.length * size(values[0]);
    } else if (name === 'replace' && operand instanceof StringValue) {
      projected = operand.value.length * Math.max(1, size(values[1]));
    } else if (values.some((v) => typeof v.value === 'number' && v.value > 64)) {
      throw new RenderLimitExceeded(`'${name}' with an indent over 64 is not allowed`);
    }
    if (projected > this.limits.maxBytes) {
      throw new RenderLimitExceeded(`'${name}' would build a string over ${this.limits.maxBytes} bytes`);
    }
    const filter = expr.filter.type === 'CallExpression' ? { ...expr.filter, args } : expr.filter;
    return this.base({ ...(statement as object), operand: valueNode(operand), filter }, environment);
  }

  /**
   * A loop is charged its item count before the engine prepares every item (a scope each): a loop
   * over 100,000 items exhausts the step budget at once instead of after that work.
   */
  private forLoop(statement: Node, environment: Environment): AnyRuntimeValue {
    const node = statement as unknown as { iterable: { type: string; lhs?: Node } };
    const select = node.iterable.type === 'SelectExpression';
    const iterable = this.evaluate(select ? node.iterable.lhs : node.iterable, environment);
    if (iterable instanceof ArrayValue) this.charge(iterable.value.length);
    else if (iterable instanceof ObjectValue) this.charge(iterable.value.size);
    const evaluated = select ? { ...node.iterable, lhs: valueNode(iterable) } : valueNode(iterable);
    return this.base({ ...(statement as object), iterable: evaluated }, environment);
  }

  /** Counts `n` steps of work done in one go, checking the budget when it crosses a check point. */
  charge(n: number): void {
    const before = this.spent.steps;
    this.spent.steps += n;
    if (Math.floor(before / CLOCK_EVERY) !== Math.floor(this.spent.steps / CLOCK_EVERY)) this.checkBudget();
  }

  /** Printing an undefined value fails, as with Jinja's StrictUndefined (the engine would print ''). */
  private print(statement: Node, environment: Environment): AnyRuntimeValue {
    const value = this.evaluate((statement as unknown as PrintNode).expr, environment);
    if (value instanceof NamedUndefined) throw new RenderFailure(value.message);
    if (value instanceof UndefinedValue) throw new RenderFailure('a printed value is undefined');
    // A function prints as a name, never as its JavaScript source.
    return value instanceof FunctionValue ? new StringValue('<function>') : value;
  }

  checkBudget(): void {
    if (this.spent.steps > this.limits.maxSteps) throw new RenderBudgetExhausted();
    const now = performance.now();
    if (now > this.limits.deadline) throw new RenderLimitExceeded('rendering took too long');
    if (this.limits.yieldAt !== undefined && now > this.limits.yieldAt) throw new RenderBudgetExhausted();
  }

  /** Large values are limited, and charged by size: building one is work a single step does not show. */
  private checkSize(value: AnyRuntimeValue): AnyRuntimeValue {
    if (value instanceof StringValue && value.value.length > LARGE_STRING) {
      if (value.value.length > this.limits.maxBytes) {
        throw new RenderLimitExceeded(`the rendered text is over ${this.limits.maxBytes} bytes`);
      }
      this.charge(value.value.length / LARGE_STRING);
    } else if (value instanceof ArrayValue && value.value.length > LARGE_LIST) {
      if (value.value.length > MAX_ITEMS) throw new RenderLimitExceeded(`a list grew past ${MAX_ITEMS} items`);
      this.charge(value.value.length);
    }
    return value;
  }
}

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
interface PrintNode {
  type: '__print';
  expr: Node;
}

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

/** Renders a compiled template in `env` (a child of the globals); the result is the field's text. */
export function renderProgram(program: Program, env: Environment, limits: RenderLimits): string {
  const interpreter = new BoundedInterpreter(env, limits);
  let out: AnyRuntimeValue;
  const outer = activeCharge;
  activeCharge = (n) => interpreter.charge(n);
  try {
    out = interpreter.run(program);
  } catch (err) {
    if (err instanceof RenderFailure || err instanceof RenderBudgetExhausted) throw err;
    if (err instanceof RangeError)
      throw new RenderLimitExceeded(`the template recursed or grew too far (${err.message})`);
    throw new RenderFailure(err instanceof Error ? err.message : String(err));
  } finally {
    activeCharge = outer;
  }
  const text = out instanceof StringValue ? out.value : out.toString();
  if (Buffer.byteLength(text) > limits.maxBytes) {
    throw new RenderLimitExceeded(`the rendered text is over ${limits.maxBytes} bytes`);
  }
  return text;
}
