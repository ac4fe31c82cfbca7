/** Runs the real, compiled miniflow CLI as a child process against the demo's AIRFLOW_HOME. */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

export interface CliCall {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

export class MiniflowCli {
  private readonly bin: string;

  constructor(
    repo: string,
    private readonly env: NodeJS.ProcessEnv,
  ) {
    this.bin = join(repo, 'bin', 'miniflow.js');
  }

  run(args: string[], opts: { inherit?: boolean } = {}): CliCall {
    const started = performance.now();
    const r = spawnSync(process.execPath, [this.bin, ...args], {
      env: this.env,
      encoding: 'utf8',
      stdio: opts.inherit ? ['ignore', 'inherit', 'inherit'] : 'pipe',
      maxBuffer: 64 * 1024 * 1024,
    });
    return { code: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '', ms: performance.now() - started };
  }

  json<T>(args: string[]): { data: T | null; call: CliCall } {
    const call = this.run([...args, '-o', 'json']);
    try {
      return { data: JSON.parse(call.stdout) as T, call };
    } catch {
      return { data: null, call };
    }
  }
}

/** The parent's environment without AIRFLOW__/MINIFLOW_ settings, so the demo home decides everything. */
export function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env))
    if (v !== undefined && !k.startsWith('AIRFLOW') && !k.startsWith('MINIFLOW_')) env[k] = v;
  return { ...env, ...extra };
}
