import type { Settings } from '../config/settings.js';
import { resolveBundles } from '../dag/bundles.js';
import { loadDagBag } from '../dag/dagbag.js';
import type { Dag, DagBagResult } from '../dag/model.js';
import type { MetadataDb } from '../db/data-source.js';
import { NotFoundError } from '../errors.js';
import { closestMatch } from '../util/closest.js';
import { recordDagBag } from '../models/dag.js';

/**
 * Parses every DAG bundle and records the result in the metadata DB (the `dag` table and
 * `import_error`), as Airflow's DAG processor does. The scheduler and CLI read DAGs from here.
 */
export class DagRegistry {
  private bag: DagBagResult = { dags: new Map(), importErrors: [] };

  constructor(
    private readonly settings: Settings,
    private readonly db: MetadataDb,
  ) {}

  /** Parses all bundles (a new file version gets new source hashes) and syncs the DB. */
  async refresh(now: Date): Promise<DagBagResult> {
    const { core, scheduler } = this.settings;
    this.bag = loadDagBag(resolveBundles(this.settings), {
      defaults: { retries: core.defaultTaskRetries, retryDelay: core.defaultRetryDelay },
      scheduleDefaults: { catchup: scheduler.catchupByDefault, maxActiveRuns: core.maxActiveRunsPerDag },
      callableMapFile: core.callableMap || undefined,
    });
    await recordDagBag(this.db, this.bag, now, core.dagsArePausedAtCreation);
    return this.bag;
  }

  get dags(): Map<string, Dag> {
    return this.bag.dags;
  }

  get importErrors() {
    return this.bag.importErrors;
  }

  get(dagId: string): Dag {
    const dag = this.bag.dags.get(dagId);
    if (dag) return dag;
    const err = this.bag.importErrors.find((e) => e.dagId === dagId);
    if (err) throw new NotFoundError(`DAG '${dagId}' failed to load: ${err.message}`);
    const near = closestMatch(dagId, [...this.bag.dags.keys()]);
    if (near) throw new NotFoundError(`DAG '${dagId}' not found; did you mean '${near}'?`);
    throw new NotFoundError(
      `DAG '${dagId}' not found in ${resolveBundles(this.settings)
        .map((b) => b.path)
        .join(', ')} (see: miniflow dags list, miniflow dags list-import-errors)`,
    );
  }
}
