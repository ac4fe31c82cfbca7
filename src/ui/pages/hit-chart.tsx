export interface Bucket {
  start: string;
  hits: number;
  misses: number;
}

const W = 640;
const H = 160;
const PAD = 24;

/** Hits (green) and misses (amber) per time bucket, as stacked bars in an inline SVG. */
export function HitChart({ buckets, bucketSeconds }: { buckets: Bucket[]; bucketSeconds: number }) {
  if (buckets.length === 0) return <p class="muted">No cache decisions yet.</p>;
  const max = Math.max(1, ...buckets.map((b) => b.hits + b.misses));
  const bw = (W - PAD * 2) / buckets.length;
  const y = (n: number) => ((H - PAD * 2) * n) / max;
  const total = buckets.reduce((a, b) => ({ hits: a.hits + b.hits, misses: a.misses + b.misses }), {
    hits: 0,
    misses: 0,
  });
  return (
    <figure class="chart">
      <svg
        viewBox={`0 0 ${W} ${H}`}
        role="img"
        aria-label={`Hits and misses over time: ${total.hits} hits and ${total.misses} misses in ${buckets.length} buckets of ${bucketSeconds}s`}
      >
        <line x1={PAD} y1={H - PAD} x2={W - PAD} y2={H - PAD} stroke="#999" />
        {buckets.map((b, i) => {
          const x = PAD + i * bw + 1;
          const hh = y(b.hits);
          const mh = y(b.misses);
          return (
            <g key={b.start}>
              <title>{`${b.start}: ${b.hits} hits, ${b.misses} misses`}</title>
              <rect x={x} y={H - PAD - hh} width={Math.max(1, bw - 2)} height={hh} fill="#008000" />
              <rect x={x} y={H - PAD - hh - mh} width={Math.max(1, bw - 2)} height={mh} fill="#e0a000" />
            </g>
          );
        })}
        <text x={PAD} y={H - 6} class="axis">
          {buckets[0].start.slice(0, 16).replace('T', ' ')}
        </text>
        <text x={W - PAD} y={H - 6} text-anchor="end" class="axis">
          now
        </text>
        <text x={PAD} y={14} class="axis">
          {max} decisions
        </text>
      </svg>
      <figcaption>
        <span class="swatch" style={{ background: '#008000' }} /> hits{' '}
        <span class="swatch" style={{ background: '#e0a000' }} /> misses
      </figcaption>
    </figure>
  );
}
