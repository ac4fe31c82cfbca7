/**
 * Child entry point for FileSensor: pokes for a file every poke_interval seconds, as Airflow's
 * sensor does in "poke" mode, and succeeds once it exists or fails after timeout seconds.
 */
import { existsSync } from 'node:fs';
import { finish, readStdinJson } from './protocol.js';

interface FileSensorSpec {
  filepath: string;
  /** Seconds; Airflow's defaults are 60 and 7 days. */
  poke_interval?: number;
  timeout?: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function main(): Promise<void> {
  const spec = await readStdinJson<FileSensorSpec>();
  const pokeInterval = spec.poke_interval ?? 60;
  const timeout = spec.timeout ?? 7 * 24 * 3600;
  const started = Date.now();
  for (;;) {
    console.log(`[${new Date().toISOString()}] Poking for file ${spec.filepath}`);
    if (existsSync(spec.filepath)) {
      console.log(`[${new Date().toISOString()}] Success criteria met. Exiting.`);
      finish({ ok: true });
    }
    const elapsed = (Date.now() - started) / 1000;
    if (elapsed >= timeout) {
      finish({
        ok: false,
        error: `Sensor has timed out; run duration of ${elapsed.toFixed(1)} seconds exceeds the specified timeout of ${timeout} (file ${spec.filepath} not found)`,
      });
    }
    // Never sleep past the timeout: the last poke happens at the deadline.
    await sleep(Math.min(pokeInterval, Math.max(0, timeout - elapsed)) * 1000);
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.stack : err);
  finish({ ok: false, error: `FileSensor failed: ${err instanceof Error ? err.message : String(err)}` });
});
