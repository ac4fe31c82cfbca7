/**
 * "Why did this task miss?" for the demo: the key components of the new entry compared with the
 * closest earlier entry of the same task (`miniflow cache show KEY -o json`). Components are named
 * and hashed one by one, so the names whose hash differs are the answer.
 */
import type { MiniflowCli } from './cli-runner.js';

interface Component {
  name: string;
  hash: string;
}

export class MissExplainer {
  private readonly components = new Map<string, Component[] | null>();
  /** Keys seen so far per task, oldest first. */
  private readonly history = new Map<string, string[]>();

  constructor(private readonly cli: MiniflowCli) {}

  remember(taskId: string, key: string | null): void {
    if (!key) return;
    const keys = this.history.get(taskId) ?? [];
    if (!keys.includes(key)) keys.push(key);
    this.history.set(taskId, keys);
  }

  /** Names of the components that differ from the closest earlier key; null when unknown. */
  changed(taskId: string, key: string | null): string[] | null {
    if (!key) return null;
    const earlier = (this.history.get(taskId) ?? []).filter((k) => k !== key);
    if (earlier.length === 0) return [];
    const now = this.load(key);
    if (!now) return null;
    let best: string[] | null = null;
    for (const k of earlier) {
      const before = this.load(k);
      if (!before) continue;
      const diff = diffComponents(before, now);
      if (best === null || diff.length < best.length) best = diff;
    }
    return best;
  }

  private load(key: string): Component[] | null {
    if (!this.components.has(key)) {
      const { data } = this.cli.json<{ components?: Component[] }>(['cache', 'show', key]);
      this.components.set(key, Array.isArray(data?.components) ? data.components : null);
    }
    return this.components.get(key) ?? null;
  }
}

export function diffComponents(before: Component[], after: Component[]): string[] {
  const a = new Map(before.map((c) => [c.name, c.hash]));
  const b = new Map(after.map((c) => [c.name, c.hash]));
  const names = new Set([...a.keys(), ...b.keys()]);
  return [...names].filter((n) => a.get(n) !== b.get(n));
}
