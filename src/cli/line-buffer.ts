/**
 * Progress lines of a foreground run (`dags test`, `dags backfill`) written once per turn of the
 * event loop instead of once per line: a layer of 10,000 cache hits is a few writes, not 10,000
 * (stderr is synchronous on a file or pipe). Order is kept; `flush()` writes what is left, and a
 * line is never held past the turn it was logged in.
 */
export function lineBuffer(stream: NodeJS.WritableStream = process.stderr): {
  log: (line: string) => void;
  flush: () => void;
} {
  let pending: string[] = [];
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    if (pending.length === 0) return;
    const text = pending.join('\n') + '\n';
    pending = [];
    stream.write(text);
  };
  return {
    log: (line) => {
      pending.push(line);
      if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    },
    flush,
  };
}
