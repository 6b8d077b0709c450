/**
 * A minute-by-minute bar sparkline as inline SVG: successes up from the
 * middle line, failures down from it, one bar per minute of the last hour.
 */

/** Props of {@link Sparkline}. */
export interface SparklineProps {
  /** Successes per bucket, oldest first. */
  ok: number[];
  /** Failures per bucket, same buckets. */
  bad: number[];
  /** Accessible summary. */
  label: string;
}

/**
 * The sparkline.
 */
export function Sparkline({ ok, bad, label }: SparklineProps) {
  const buckets = Math.max(ok.length, bad.length, 1);
  const top = Math.max(1, ...ok, ...bad);
  const width = buckets * 4;
  const half = 24;
  const bar = (value: number) => (value / top) * (half - 1);
  return (
    <svg
      class="spark"
      viewBox={`0 0 ${width} ${half * 2}`}
      preserveAspectRatio="none"
      role="img"
      aria-label={label}
    >
      <title>{label}</title>
      <line class="axis" x1="0" x2={width} y1={half} y2={half} stroke-width="0.5" />
      {ok.map((v, i) =>
        v > 0
          ? <rect key={i} class="ok" x={i * 4} y={half - bar(v)} width="3" height={bar(v)} />
          : null
      )}
      {bad.map((v, i) =>
        v > 0 ? <rect key={i} class="bad" x={i * 4} y={half} width="3" height={bar(v)} /> : null
      )}
    </svg>
  );
}
