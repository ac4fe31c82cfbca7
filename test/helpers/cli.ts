import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

/** The repository root (tests run from it under jest). */
export const REPO = resolve(process.cwd());
export const BIN = join(REPO, 'bin', 'miniflow.js');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * A throw-away AIRFLOW_HOME with its own dags/ folder and SQLite file. End-to-end tests drive the
 * real, compiled CLI against it (`npm test` builds first).
 */
export class TempHome {
  readonly home: string;
  readonly dags: string;
  env: Record<string, string>;

  constructor(extraEnv: Record<string, string> = {}) {
    this.home = mkdtempSync(join(tmpdir(), 'miniflow-e2e-'));
    this.dags = join(this.home, 'dags');
    mkdirSync(this.dags, { recursive: true });
    this.env = { AIRFLOW_HOME: this.home, NO_COLOR: '1', ...extraEnv };
  }

  /** Writes a file under the home (creating folders); returns its absolute path. */
  write(relPath: string, content: string | object): string {
    const file = join(this.home, relPath);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
    return file;
  }

  /** Writes a DAG file `dags/<name>.json` from a `dag` object (wrapped in a v1 envelope). */
  writeDag(dag: object, name?: string): string {
    const id = (dag as { dag_id?: string }).dag_id ?? 'dag';
    return this.write(`dags/${name ?? id}.json`, { __version: 1, dag });
  }

  /** Runs the CLI synchronously (`bin`: another entry, e.g. the unbundled dist/src/cli/main.js). */
  run(args: string[], env: Record<string, string> = {}, bin = BIN): CliResult {
    const r = spawnSync(process.execPath, [bin, ...args], {
      cwd: REPO,
      env: { ...cleanEnv(), ...this.env, ...env },
      encoding: 'utf8',
      timeout: 120_000,
    });
    return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
  }

  /** Runs the CLI and parses its stdout as JSON (`-o json` is added). */
  json<T = any>(args: string[], env: Record<string, string> = {}): { code: number; data: T; stderr: string } {
    const r = this.run([...args, '-o', 'json'], env);
    let data: T;
    try {
      data = JSON.parse(r.stdout) as T;
    } catch {
      throw new Error(`not JSON (exit ${r.code}):\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
    }
    return { code: r.code, data, stderr: r.stderr };
  }

  /** Starts the CLI without waiting (for tests that kill or race schedulers). */
  start(args: string[], env: Record<string, string> = {}) {
    return spawn(process.execPath, [BIN, ...args], {
      cwd: REPO,
      env: { ...cleanEnv(), ...this.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  }
}

/** The parent's environment without any AIRFLOW__ settings of the developer's shell. */
function cleanEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env))
    if (v !== undefined && !k.startsWith('AIRFLOW') && !k.startsWith('MINIFLOW_')) env[k] = v;
  return env;
}
