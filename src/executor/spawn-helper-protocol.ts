/** Messages between the scheduler and its spawn helper (Node IPC, 'advanced' serialization). */
import type { LaunchRequest } from './launch.js';

export type ToHelper =
  { t: 'spawn'; id: number; req: LaunchRequest } | { t: 'go'; id: number; data: string } | { t: 'nogo'; id: number };

export type FromHelper =
  | { t: 'ready' }
  | { t: 'started'; id: number; pid: number }
  | { t: 'failed'; id: number; message: string }
  | { t: 'out'; id: number; fd: 1 | 2 | 3; chunk: Buffer }
  | { t: 'close'; id: number; code: number | null; signal: string | null };
