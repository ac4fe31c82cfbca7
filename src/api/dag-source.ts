import type { Dag } from '../dag/model.js';
import type { Runtime } from '../runtime.js';
import type { DagRegistry } from '../scheduler/dag-registry.js';

/**
 * The parsed DAGs for the API. Parsing every bundle per request would make the UI's polling parse
 * files several times a second, so the parse is reused for a few seconds; a DAG id it does not know
 * triggers one fresh parse before the 404 (a file added a moment ago is found).
 */
export class DagSource {
  private parsedAt = -Infinity;
  private pending: Promise<void> | null = null;

  constructor(
    private readonly rt: Runtime,
    private readonly maxAgeMs: number,
  ) {}

  async registry(maxAgeMs = this.maxAgeMs): Promise<DagRegistry> {
    if (Date.now() - this.parsedAt > maxAgeMs) await this.refresh();
    return this.rt.registry;
  }

  /** The DAG, or the registry's NotFoundError (with the CLI's words and a "did you mean"). */
  async dag(dagId: string): Promise<Dag> {
    let reg = await this.registry();
    if (!reg.dags.has(dagId)) reg = await this.registry(1000);
    return reg.get(dagId);
  }

  private refresh(): Promise<void> {
    // Concurrent requests share one parse.
    this.pending ??= this.rt.registry
      .refresh(this.rt.clock.now())
      .then(() => void (this.parsedAt = Date.now()))
      .finally(() => (this.pending = null));
    return this.pending;
  }
}
