/**
 * Typed errors for user mistakes and environment problems. The CLI prints `message` as one line
 * and exits non-zero; anything that is not a MiniflowError is a bug and keeps its stack trace.
 */
export class MiniflowError extends Error {
  /** The CLI's exit code for it. */
  readonly exitCode: number = 1;

  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** airflow.cfg or an AIRFLOW__SECTION__KEY variable holds a bad value. */
export class ConfigError extends MiniflowError {
  constructor(
    readonly section: string,
    readonly key: string,
    detail: string,
  ) {
    super(`config [${section}] ${key}: ${detail}`);
  }
}

/** airflow.cfg has a line miniflow cannot read. */
export class ConfigFileError extends MiniflowError {
  constructor(
    readonly file: string,
    readonly line: number,
    detail: string,
  ) {
    super(`config file ${file} line ${line}: ${detail}`);
  }
}

/** A DAG file cannot be loaded; recorded as an import error, never stops other files loading. */
export class DagValidationError extends MiniflowError {
  constructor(
    readonly file: string,
    readonly detail: string,
    readonly dagId?: string,
    readonly taskId?: string,
  ) {
    const where = [file, dagId ? `DAG '${dagId}'` : undefined, taskId ? `task '${taskId}'` : undefined]
      .filter(Boolean)
      .join(', ');
    super(`${where}: ${detail}`);
  }
}

/** Something the user named (DAG, run, task, cache key) does not exist. */
export class NotFoundError extends MiniflowError {}

/** Bad command-line input (a --conf that is not JSON, a date that does not parse, ...). */
export class UsageError extends MiniflowError {}

/** A template or XCom reference could not be resolved for a task instance. */
export class TemplateError extends MiniflowError {}

/** A cache backend could not be loaded or failed; the scheduler fails open on these. */
export class CacheBackendError extends MiniflowError {}

/**
 * The metadata DB stayed unwritable or unreachable for `[scheduler] db_unavailable_timeout` seconds:
 * the scheduler exits with code 3 (its tries are recovered by the next scheduler; nothing is lost).
 */
export class DbUnavailableError extends MiniflowError {
  override readonly exitCode: number = 3;
}

/** The message of anything thrown: an Error's message, else its string form. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
