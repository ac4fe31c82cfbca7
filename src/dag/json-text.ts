import { DagValidationError } from '../errors.js';

/**
 * JSON.parse with an error that names the file, line and column. V8 reports an offset for most
 * syntax errors ("... in JSON at position N"); for the few it does not ("Unexpected token 'x', ...")
 * a small scanner finds the offset of the first character that breaks the grammar.
 */
export function parseJsonText(file: string, text: string): unknown {
  // A UTF-8 byte-order mark is not JSON but editors on Windows write one; tolerate it.
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  try {
    return JSON.parse(body);
  } catch (e) {
    if (!(e instanceof SyntaxError)) throw e;
    const offset = reportedOffset(e.message, body) ?? firstErrorOffset(body);
    const { line, column } = lineColumn(body, offset);
    throw new DagValidationError(
      file,
      `malformed JSON at line ${line}, column ${column}: ${reason(e.message)}; fix the JSON syntax there`,
    );
  }
}

/** 1-based line and column of a string offset. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, Math.max(0, Math.min(offset, text.length)));
  const lines = before.split(/\r\n|\r|\n/);
  return { line: lines.length, column: lines[lines.length - 1].length + 1 };
}

function reportedOffset(message: string, text: string): number | undefined {
  const m = /at position (\d+)/.exec(message);
  if (m) return Number(m[1]);
  if (/Unexpected end of JSON input/.test(message)) return text.length;
  return undefined;
}

/** V8's message without the position suffix and the echoed source snippet (can be long). */
function reason(message: string): string {
  return (
    message
      .replace(/ in JSON at position \d+.*$/, '')
      .replace(/, (\.\.\.)?".*"(\.\.\.)? is not valid JSON$/s, '')
      // eslint-disable-next-line no-control-regex -- matching control characters is the point: they are escaped
      .replace(/[\u0000-\u001f]/g, (c) => JSON.stringify(c).slice(1, -1))
  );
}

const WS = new Set([' ', '\t', '\n', '\r']);

/** Offset of the first character where `text` stops being valid JSON (RFC 8259). */
export function firstErrorOffset(text: string): number {
  let i = 0;
  const fail = (): never => {
    throw new ScanStop(i);
  };
  const ws = () => {
    while (i < text.length && WS.has(text[i])) i++;
  };
  const expect = (ch: string) => {
    if (text[i] !== ch) fail();
    i++;
  };
  const string = () => {
    expect('"');
    for (;;) {
      if (i >= text.length) fail();
      const c = text.charCodeAt(i);
      if (c === 0x22) return void i++;
      if (c < 0x20) fail();
      if (c === 0x5c) {
        i++;
        const e = text[i];
        if (e === 'u') {
          for (let k = 1; k <= 4; k++) {
            i++;
            if (!/[0-9a-fA-F]/.test(text[i] ?? '')) fail();
          }
        } else if (!'"\\/bfnrt'.includes(e ?? 'x') || e === undefined) fail();
      }
      i++;
    }
  };
  const digits = () => {
    if (!/[0-9]/.test(text[i] ?? '')) fail();
    while (/[0-9]/.test(text[i] ?? '')) i++;
  };
  const number = () => {
    if (text[i] === '-') i++;
    if (text[i] === '0') i++;
    else digits();
    if (text[i] === '.') {
      i++;
      digits();
    }
    if (text[i] === 'e' || text[i] === 'E') {
      i++;
      if (text[i] === '+' || text[i] === '-') i++;
      digits();
    }
  };
  const value = (): void => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      ws();
      if (text[i] === '}') return void i++;
      for (;;) {
        ws();
        string();
        ws();
        expect(':');
        value();
        ws();
        if (text[i] === ',') i++;
        else return expect('}');
      }
    }
    if (c === '[') {
      i++;
      ws();
      if (text[i] === ']') return void i++;
      for (;;) {
        value();
        ws();
        if (text[i] === ',') i++;
        else return expect(']');
      }
    }
    if (c === '"') return string();
    if (c === '-' || /[0-9]/.test(c ?? '')) return number();
    for (const literal of ['true', 'false', 'null']) {
      if (c === literal[0]) {
        for (const ch of literal) expect(ch);
        return;
      }
    }
    fail();
  };
  try {
    value();
    ws();
    if (i < text.length) fail();
    return text.length;
  } catch (e) {
    if (e instanceof ScanStop) return e.offset;
    return 0; // nesting too deep for the scanner: V8 parsed it, so report the start
  }
}

/** Thrown by the scanner at the first bad character; caught in firstErrorOffset. */
class ScanStop extends Error {
  constructor(readonly offset: number) {
    super(`invalid JSON at offset ${offset}`);
  }
}
