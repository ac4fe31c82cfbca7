import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { HashCounters } from '../cache/files/file-hash.js';
import { inputFileComponents } from '../cache/files/outputs.js';
import { openMetadataDb } from '../db/data-source.js';
import { DbFileHashMemo } from '../models/file-hash-memo.js';

export interface FileHashProbeOptions {
  files: number;
  fileMb: number;
}

/** `bench --file-hash-probe`: one `cache.input_files` check over N files of M MB, cold then warm. */
export interface FileHashProbeResult {
  files: number;
  file_mb: number;
  /** content mode, empty file_hash_memo: every file read and hashed (sha256, streamed). */
  cold_ms: number;
  /** content mode again, files unchanged: every hash from the memo (a stat and a row read per file). */
  warm_ms: number;
  /** mtime mode (size + mtime): never reads a file. */
  mtime_mode_ms: number;
  files_read: { cold: number; warm: number };
  /** The cold and warm checks gave the same components (the memo is faithful). */
  ok: boolean;
}

async function timed<T>(f: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t0 = performance.now();
  const value = await f();
  return { ms: performance.now() - t0, value };
}

/** Writes the files in a temporary folder with its own metadata DB, measures, and removes it all. */
export async function fileHashProbe(o: FileHashProbeOptions): Promise<FileHashProbeResult> {
  const home = mkdtempSync(join(tmpdir(), 'miniflow-file-hash-probe-'));
  const dir = join(home, 'data');
  mkdirSync(dir);
  const block = randomBytes(1024 * 1024);
  for (let i = 0; i < o.files; i++) {
    // Distinct content per file (its index first), so no two hashes could be shared by accident.
    const parts = [Buffer.from(`file ${i}\n`)];
    for (let m = 0; m < o.fileMb; m++) parts.push(block);
    writeFileSync(join(dir, `part-${String(i).padStart(4, '0')}.bin`), Buffer.concat(parts));
  }
  const db = await openMetadataDb(`sqlite:///${join(home, 'probe.db')}`, home);
  try {
    const memo = new DbFileHashMemo(db);
    const pattern = [join(dir, '*.bin')];
    const cold: HashCounters = { read: 0, memo: 0 };
    const warm: HashCounters = { read: 0, memo: 0 };
    const c = await timed(() => inputFileComponents(pattern, 'content', memo, home, cold));
    const w = await timed(() => inputFileComponents(pattern, 'content', memo, home, warm));
    const m = await timed(() => inputFileComponents(pattern, 'mtime', null, home));
    return {
      files: o.files,
      file_mb: o.fileMb,
      cold_ms: round(c.ms),
      warm_ms: round(w.ms),
      mtime_mode_ms: round(m.ms),
      files_read: { cold: cold.read, warm: warm.read },
      ok: JSON.stringify(c.value) === JSON.stringify(w.value) && Object.keys(c.value).length === o.files,
    };
  } finally {
    await db.close();
    rmSync(home, { recursive: true, force: true });
  }
}

const round = (ms: number) => Math.round(ms * 10) / 10;

export function renderFileHashProbe(r: FileHashProbeResult): string {
  return (
    [
      `file-hash probe: one cache.input_files check over ${r.files} files of ${r.file_mb} MB`,
      `  content, cold (every file read, sha256):   ${r.cold_ms.toFixed(1)} ms (${r.files_read.cold} files read)`,
      `  content, warm (file_hash_memo):            ${r.warm_ms.toFixed(1)} ms (${r.files_read.warm} files read)`,
      `  mtime mode (size + mtime, nothing read):   ${r.mtime_mode_ms.toFixed(1)} ms`,
      `  consistent: ${r.ok ? 'yes' : 'NO'}`,
    ].join('\n') + '\n'
  );
}
