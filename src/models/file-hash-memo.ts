import type { MetadataDb } from '../db/data-source.js';

/** A file's identity on disk (the cache's FileStamp, restated here: models sit below the cache). */
export interface FileStamp {
  path: string;
  size: number;
  mtimeMs: number;
  ino: number;
}

interface MemoRow {
  size: number | string;
  mtime_ms: number | string;
  inode: string;
  sha256: string;
}

/**
 * File content hashes in the metadata DB's `file_hash_memo` table, one row per path: valid while
 * the file's size, mtime and inode are what they were when it was hashed.
 */
export class DbFileHashMemo {
  constructor(private readonly db: MetadataDb) {}

  async get(stamp: FileStamp): Promise<string | null> {
    const rows = await this.db.query<MemoRow[]>(
      'SELECT size, mtime_ms, inode, sha256 FROM file_hash_memo WHERE path = ?',
      [stamp.path],
    );
    const r = rows[0];
    if (!r) return null;
    const same = Number(r.size) === stamp.size && Number(r.mtime_ms) === stamp.mtimeMs && r.inode === String(stamp.ino);
    return same ? r.sha256 : null;
  }

  async put(stamp: FileStamp, sha256: string): Promise<void> {
    await this.db.query(
      `INSERT INTO file_hash_memo (path, size, mtime_ms, inode, sha256) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (path) DO UPDATE SET size = excluded.size, mtime_ms = excluded.mtime_ms,
       inode = excluded.inode, sha256 = excluded.sha256`,
      [stamp.path, stamp.size, stamp.mtimeMs, String(stamp.ino), sha256],
    );
  }
}
