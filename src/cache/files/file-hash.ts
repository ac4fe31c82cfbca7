import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { FileHashMode } from '../../dag/model.js';

/** A file's identity on disk: when all four are unchanged, its content hash is taken as unchanged. */
export interface FileStamp {
  path: string;
  size: number;
  mtimeMs: number;
  ino: number;
}

/**
 * Remembers content hashes by (path, size, mtime, inode), so an unchanged large file is not re-read
 * on every check. Best effort: a failing memo only costs a re-read.
 */
export interface FileHashMemo {
  get(stamp: FileStamp): Promise<string | null>;
  put(stamp: FileStamp, sha256: string): Promise<void>;
}

/** sha256 of a file's bytes, read as a stream (a 1 GB file never sits in memory). */
export function sha256OfFile(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(path)
      .on('error', reject)
      .on('data', (chunk) => hash.update(chunk))
      .on('end', () => resolve(hash.digest('hex')));
  });
}

/** The file's stamp, or null when it does not exist (or is not a regular file). */
export async function stampOf(path: string): Promise<FileStamp | null> {
  try {
    const s = await stat(path);
    return s.isFile() ? { path, size: s.size, mtimeMs: s.mtimeMs, ino: s.ino } : null;
  } catch {
    return null;
  }
}

/** Counters for `miniflow bench --file-hash-probe`: how many files were read vs served by the memo. */
export interface HashCounters {
  read: number;
  memo: number;
}

/**
 * A file's fingerprint in the given mode, or null when it is gone. `content`: its sha256 (memoized);
 * `mtime`: size and modification time, as Nextflow's standard mode; `size`: the size alone (lenient,
 * for shared filesystems whose mtimes drift).
 */
export async function fingerprint(
  path: string,
  mode: FileHashMode,
  memo: FileHashMemo | null,
  counters?: HashCounters,
): Promise<string | null> {
  const stamp = await stampOf(path);
  if (!stamp) return null;
  if (mode === 'size') return `size:${stamp.size}`;
  if (mode === 'mtime') return `size:${stamp.size} mtime:${new Date(stamp.mtimeMs).toISOString()}`;
  const known = memo ? await memo.get(stamp).catch(() => null) : null;
  if (known) {
    if (counters) counters.memo++;
    return `sha256:${known}`;
  }
  let digest: string;
  try {
    digest = await sha256OfFile(path);
  } catch {
    return null;
  }
  if (counters) counters.read++;
  if (memo) await memo.put(stamp, digest).catch(() => undefined);
  return `sha256:${digest}`;
}
