/** `npm run demo -- --web`: the real `miniflow api-server` beside the demo, on the demo's AIRFLOW_HOME. */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';

export interface DemoWeb {
  url: string;
  token: string;
  stop(): void;
}

export function startDemoWeb(repo: string, env: NodeJS.ProcessEnv): Promise<DemoWeb> {
  const token = randomBytes(12).toString('hex');
  const port = process.env.MINIFLOW_DEMO_PORT ?? '0';
  const child: ChildProcess = spawn(
    process.execPath,
    [join(repo, 'bin', 'miniflow.js'), 'api-server', '--port', port],
    {
      env: { ...env, AIRFLOW__API__AUTH_TOKEN: token },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (http:\/\/\S+) /.exec(out);
      if (m) resolve({ url: m[1], token, stop: () => void child.kill('SIGTERM') });
    });
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    child.once('exit', (code) => reject(new Error(`api-server exited (${code}) before listening: ${out.trim()}`)));
  });
}
