import { extent, line, scaleLinear } from 'd3';
import type { SensitivityCurve } from '../../workers/client';
import { formatPercent, formatValue } from '../format';
import { ChartAxes, ChartMarker, type Frame } from './ChartAxes';

const FRAME: Frame = { width: 640, height: 220, margin: { top: 22, right: 18, bottom: 40, left: 56 } };
const THIS_BLOCK = '#1f5fbf';
const OTHER_BLOCKS = '#b8c2cf';

/** Every block's calibration loss against its own sparsity, the selected block drawn out and its current sparsity marked. */
export function SensitivityChart({
  curves,
  layer,
  current,
}: {
  curves: SensitivityCurve[];
  layer: number;
  current: number;
}) {
  const { width: W, height: H, margin: M } = FRAME;
  const mine = curves.find((c) => c.layer === layer);
  const [lo, hi] = extent(curves.flatMap((c) => c.losses)) as [number, number];
  const x = scaleLinear()
    .domain([0, 0.9])
    .range([M.left, W - M.right]);
  const y = scaleLinear()
    .domain([lo, hi > lo ? hi : lo + 1])
    .nice()
    .range([H - M.bottom, M.top]);
  const pathOf = (c: SensitivityCurve) =>
    line<number>()
      .x((_, i) => x(c.sparsities[i]))
      .y((v) => y(v))(c.losses) ?? '';
  const now = Math.min(current, 0.9);
  const label = mine
    ? `Calibration loss of block ${layer + 1} pruned alone: ${formatValue(mine.losses[0])} dense, ${formatValue(mine.losses[mine.losses.length - 1])} at 90%; now ${formatPercent(current)} of its weights removed`
    : 'Sensitivity curves';
  return (
    <>
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={label}>
        <ChartAxes
          frame={FRAME}
          x={{ scale: x, ticks: x.ticks(9), format: (v) => formatPercent(v, 0), title: 'Sparsity of this block alone' }}
          y={{ scale: y, ticks: y.ticks(4), format: (v) => formatValue(v), title: 'Calibration loss' }}
        />
        {curves
          .filter((c) => c !== mine)
          .map((c) => (
            <path key={c.layer} d={pathOf(c)} fill="none" stroke={OTHER_BLOCKS} strokeWidth={1.5} />
          ))}
        {mine && (
          <>
            <path d={pathOf(mine)} fill="none" stroke={THIS_BLOCK} strokeWidth={2.5} />
            {mine.losses.map((v, i) => (
              <circle key={i} cx={x(mine.sparsities[i])} cy={y(v)} r={2.5} fill={THIS_BLOCK} />
            ))}
            <ChartMarker frame={FRAME} x={x(now)} label={`now ${formatPercent(current)}`} style="threshold" />
          </>
        )}
      </svg>
      <ul className="chart-legend" aria-label="Legend">
        <li>
          <span className="swatch" style={{ background: THIS_BLOCK }} aria-hidden="true" />
          block {layer + 1}
        </li>
        <li>
          <span className="swatch" style={{ background: OTHER_BLOCKS }} aria-hidden="true" />
          other blocks
        </li>
        <li>
          <span className="swatch detail-swatch-threshold" aria-hidden="true" />
          this block's current sparsity
        </li>
      </ul>
    </>
  );
}
