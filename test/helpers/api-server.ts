import type { ChildProcess } from 'node:child_process';
import type { TempHome } from './cli.js';

export interface RunningServer {
  url: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

/** Starts the real `miniflow api-server --port 0` against a TempHome and waits for its URL. */
export async function startApiServer(h: TempHome, env: Record<string, string> = {}): Promise<RunningServer> {
  const child = h.start(['api-server', '--port', '0'], env);
  let out = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`api-server did not start in time:\n${out}`)), 60_000);
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (http:\/\/\S+) /.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`api-server exited (${code}) before listening:\n${out}`));
    });
  });
  const stop = () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
  return { url, child, stop };
}

export interface ApiResponse {
  status: number;
  type: string;
  body: any;
}

/** One HTTP call; `token` becomes `Authorization: Bearer <token>`. */
export async function api(
  base: string,
  method: string,
  path: string,
  opts: { body?: unknown; token?: string; rawBody?: string } = {},
): Promise<ApiResponse> {
  const headers: Record<string, string> = {};
  if (opts.token !== undefined) headers.Authorization = `Bearer ${opts.token}`;
  if (opts.body !== undefined || opts.rawBody !== undefined) headers['Content-Type'] = 'application/json';
  const r = await fetch(base + path, {
    method,
    headers,
    body: opts.rawBody ?? (opts.body === undefined ? undefined : JSON.stringify(opts.body)),
  });
  const text = await r.text();
  let body: any = text;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    // not JSON (the UI page): keep the text
  }
  return { status: r.status, type: r.headers.get('content-type') ?? '', body };
}

/** Run ids in a path segment (they hold `+` and `:`). */
export const seg = encodeURIComponent;
