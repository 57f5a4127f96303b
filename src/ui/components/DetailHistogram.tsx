import { max, scaleLinear, scaleLog } from 'd3';
import type { Histogram } from '../../workers/client';
import { formatInteger, formatValue } from '../format';
import { KEPT_COLOR, REMOVED_COLOR, type Marker } from '../layer-detail-format';
import { ChartAxes, ChartMarker, type Frame } from './ChartAxes';

/** Full width, and the narrower one beside the mask (its text then scales down less). */
export const WIDE: Frame = { width: 640, height: 200, margin: { top: 24, right: 18, bottom: 40, left: 56 } };
export const NARROW: Frame = { width: 440, height: 230, margin: { top: 24, right: 14, bottom: 40, left: 52 } };

/** Powers of ten in [lo, hi] when it spans two decades or more; else d3's ticks. */
function logTicks(scale: ReturnType<typeof scaleLog<number>>, lo: number, hi: number): number[] {
  if (Math.log10(hi / lo) < 2) return scale.ticks(4);
  const out: number[] = [];
  for (let e = Math.ceil(Math.log10(lo)); e <= Math.floor(Math.log10(hi)); e++) out.push(10 ** e);
  return out.length > 6 ? out.filter((_, i) => i % 2 === 0) : out;
}

/**
 * Counts per bin, kept stacked on removed, with the threshold's lines and band. Log-scale histograms
 * say apart how many values the scale cannot place (zero scores).
 */
export function DetailHistogram({
  histogram,
  xTitle,
  markers,
  label,
  frame = WIDE,
  grid = null,
}: {
  histogram: Histogram;
  xTitle: string;
  markers: Marker[];
  label: string;
  frame?: Frame;
  /** Points of a quantization grid, drawn as ticks along the axis (those within the histogram's range). */
  grid?: { points: number[]; title: (code: number) => string } | null;
}) {
  const { width: W, height: H, margin: M } = frame;
  const { edges, kept, removed, zeros } = histogram;
  const zeroNote = zeros.kept + zeros.removed > 0 && (
    <p className="card-note">
      Not on the log scale: {formatInteger(zeros.kept + zeros.removed)} zero scores ({formatInteger(zeros.kept)} kept,{' '}
      {formatInteger(zeros.removed)} removed).
    </p>
  );
  if (edges.length === 0) return <>{zeroNote}</>;
  const lo = edges[0];
  const hi = edges[edges.length - 1];
  const log = histogram.scale === 'log';
  const x = log
    ? scaleLog()
        .domain([lo, hi])
        .range([M.left, W - M.right])
    : scaleLinear()
        .domain([lo, hi])
        .range([M.left, W - M.right]);
  const xTicks = log ? logTicks(x as ReturnType<typeof scaleLog<number>>, lo, hi) : x.ticks(frame.width < 500 ? 5 : 8);
  const y = scaleLinear()
    .domain([0, max(kept, (k, i) => k + removed[i]) || 1])
    .nice()
    .range([H - M.bottom, M.top]);
  const clampX = (v: number) => Math.min(W - M.right, Math.max(M.left, x(v)));
  return (
    <>
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={label}>
        <ChartAxes
          frame={frame}
          x={{ scale: x, ticks: xTicks, format: (v) => formatValue(v, 2), title: xTitle }}
          y={{ scale: y, ticks: y.ticks(4), format: formatInteger, title: 'Weights' }}
        />
        {kept.map((k, i) => {
          const x0 = x(edges[i]);
          const w = Math.max(0.5, x(edges[i + 1]) - x0 - 0.6);
          return (
            <g key={i}>
              {removed[i] > 0 && (
                <rect x={x0} width={w} y={y(removed[i])} height={y(0) - y(removed[i])} fill={REMOVED_COLOR} />
              )}
              {k > 0 && (
                <rect
                  x={x0}
                  width={w}
                  y={y(removed[i] + k)}
                  height={y(removed[i]) - y(removed[i] + k)}
                  fill={KEPT_COLOR}
                />
              )}
            </g>
          );
        })}
        {grid && (
          <g className="quant-grid" data-testid="quant-grid">
            {grid.points.map((v, code) =>
              v < lo || v > hi ? null : (
                <line
                  key={code}
                  className="quant-grid-tick"
                  x1={x(v)}
                  x2={x(v)}
                  y1={H - M.bottom}
                  y2={H - M.bottom - 8}
                >
                  <title>{grid.title(code)}</title>
                </line>
              ),
            )}
          </g>
        )}
        {markers
          .filter((m) => m.style === 'band' && m.to !== undefined)
          .map((m) => (
            <rect
              key={m.label}
              className="detail-band"
              x={clampX(m.value)}
              width={Math.max(1, clampX(m.to!) - clampX(m.value))}
              y={M.top}
              height={H - M.bottom - M.top}
            />
          ))}
        {markers
          .filter((m) => m.style !== 'band')
          .map((m, i) => (
            <ChartMarker
              key={i}
              frame={frame}
              x={clampX(m.value)}
              label={m.label}
              style={m.style as 'threshold' | 'reference'}
            />
          ))}
      </svg>
      {zeroNote}
    </>
  );
}

/** The legend's entries for kept and removed weights (the histograms' bars, the mask's pixels). */
export function KeptRemovedItems() {
  return (
    <>
      <li>
        <span className="swatch square" style={{ background: KEPT_COLOR }} aria-hidden="true" />
        kept
      </li>
      <li>
        <span className="swatch square" style={{ background: REMOVED_COLOR }} aria-hidden="true" />
        removed
      </li>
    </>
  );
}

/** The histogram's colours and lines, named; `grid` names the quantization grid's ticks. */
export function HistogramLegend({ markers, grid = null }: { markers: Marker[]; grid?: string | null }) {
  return (
    <ul className="chart-legend" aria-label="Legend">
      <KeptRemovedItems />
      {markers.map((m) => (
        <li key={m.label}>
          <span className={`swatch detail-swatch-${m.style}`} aria-hidden="true" />
          {m.label}
        </li>
      ))}
      {grid && (
        <li>
          <span className="swatch quant-grid-swatch" aria-hidden="true" />
          {grid}
        </li>
      )}
    </ul>
  );
}
