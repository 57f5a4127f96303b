import { extent, line, scaleLinear, schemeTableau10 } from 'd3';
import { useMemo, useState } from 'react';
import type { ModelSummary } from '../../workers/client';
import { formatBytes, formatCount, formatFlops, formatPercent, metricDisplay } from '../format';
import type { ChartColor } from '../share';
import { densePoint, FULL_BITS, useWorkbench, type ChartPoint } from '../store';
import { AXES, DEFAULT_SWEEP_LABEL, type Axis } from '../share-labels';
import { arrowBetween, bitsColor, bitsLabel, bitsPresent, paretoFront } from '../tradeoff';
import { ProgressBar } from './ProgressBar';

const W = 640;
const H = 300;
const M = { top: 14, right: 34, bottom: 42, left: 58 };

const AXIS_NAMES: Record<Axis, string> = { flops: 'FLOPs', params: 'Nonzero parameters', bytes: 'Size (bytes)' };
const COLOR_NAMES: Record<ChartColor, string> = { curve: 'curve', bits: 'bits' };
const axisFormat = (a: Axis) => (a === 'flops' ? formatFlops : a === 'bytes' ? formatBytes : formatCount);

interface Series {
  key: string;
  label: string;
  color: string;
  points: ChartPoint[];
  running: boolean;
}

/**
 * Metric against cost, one curve per method, the current configuration and the Pareto front over
 * every point; the points coloured by their curve or by their bits; a table as its text alternative.
 */
export function TradeoffChart({ summary }: { summary: ModelSummary }) {
  const config = useWorkbench((s) => s.config);
  const curves = useWorkbench((s) => s.curves);
  const current = useWorkbench((s) => s.current);
  const sweep = useWorkbench((s) => s.sweep);
  const setConfig = useWorkbench((s) => s.setConfig);
  const runSweep = useWorkbench((s) => s.runSweep);
  const cancelSweep = useWorkbench((s) => s.cancelSweep);
  const clearCurves = useWorkbench((s) => s.clearCurves);
  const evaluation = useWorkbench((s) => s.evaluation);
  const recoveredPoints = useWorkbench((s) => s.recoveredPoints);
  const [focused, setFocused] = useState<string | null>(null);
  const [table, setTable] = useState(false);
  const axis = config.axis;
  const byBits = config.chartColor === 'bits';
  const fillOf = (s: Series, p: ChartPoint) => (byBits ? bitsColor(p.bits) : s.color);
  const { name: metricName, higherIsBetter: higher, format: fmtMetric } = metricDisplay(summary.family);
  const fmtX = axisFormat(axis);

  const dense = evaluation.status === 'done' ? densePoint(summary, evaluation.value) : null;
  const series: Series[] = useMemo(
    () =>
      curves
        .filter((c) => c.model === config.model)
        .map((c, i) => ({
          key: c.key,
          label: c.label,
          color: schemeTableau10[i % 10],
          points: [...c.points].sort((a, b) => a[axis] - b[axis]),
          running: c.status === 'running',
        })),
    [curves, config.model, axis],
  );
  const currentPoint = current.status === 'done' ? current.value.point : null;
  const recovered = recoveredPoints.filter((r) => r.model === config.model);
  const all = [
    ...series.flatMap((s) => s.points),
    ...(dense ? [dense] : []),
    ...(currentPoint ? [currentPoint] : []),
    ...recovered.flatMap((r) => [r.pruned, r.recovered]),
  ];
  const front = paretoFront(all, axis, higher);

  const [x0, x1] = extent(all, (p) => p[axis]) as [number | undefined, number | undefined];
  const [y0, y1] = extent(all, (p) => p.metric) as [number | undefined, number | undefined];
  const x = scaleLinear()
    .domain([0, (x1 ?? summary.cost.flops) * 1.05 || 1])
    .range([M.left, W - M.right])
    .nice();
  const ypad = ((y1 ?? 1) - (y0 ?? 0)) * 0.08 || 0.05;
  const y = scaleLinear()
    .domain([(y0 ?? 0) - ypad, (y1 ?? 1) + ypad])
    .range([H - M.bottom, M.top])
    .nice();
  void x0;
  const path = line<ChartPoint>()
    .x((p) => x(p[axis]))
    .y((p) => y(p.metric));
  const describe = (label: string, p: ChartPoint) =>
    `${label}: ${formatPercent(p.amount, 0)} removed${p.bits < FULL_BITS ? `, ${bitsLabel(p.bits)}` : ''}, ${metricName.toLowerCase()} ${fmtMetric(p.metric)}, ${AXIS_NAMES[axis]} ${fmtX(p[axis])}`;

  return (
    <section className="card chart-card" aria-labelledby="chart-title">
      <div className="card-head">
        <h2 id="chart-title">Trade-off</h2>
        <div className="chart-tools">
          <label htmlFor="chart-axis">Cost axis</label>
          <select id="chart-axis" value={axis} onChange={(e) => setConfig({ axis: e.target.value as Axis })}>
            {AXES.map((a) => (
              <option key={a} value={a}>
                {AXIS_NAMES[a]}
              </option>
            ))}
          </select>
          <label htmlFor="chart-color">Colour by</label>
          <select
            id="chart-color"
            value={config.chartColor}
            onChange={(e) => setConfig({ chartColor: e.target.value as ChartColor })}
          >
            {(Object.keys(COLOR_NAMES) as ChartColor[]).map((c) => (
              <option key={c} value={c}>
                {COLOR_NAMES[c]}
              </option>
            ))}
          </select>
          <button type="button" className="button small quiet" aria-pressed={table} onClick={() => setTable(!table)}>
            {table ? 'Show chart' : 'Show table'}
          </button>
        </div>
      </div>
      <div className="sweep-row">
        {sweep.status === 'running' ? (
          <>
            <span className="measuring-label">
              {sweep.progress.label}
              {sweep.progress.fraction !== null && ` · ${formatPercent(sweep.progress.fraction, 0)}`}
            </span>
            <ProgressBar label="Sweep progress" fraction={sweep.progress.fraction} />
            <button type="button" className="button small" onClick={cancelSweep}>
              Cancel sweep
            </button>
          </>
        ) : (
          <>
            <button
              type="button"
              className="button small"
              disabled={config.granularity === 'nm'}
              onClick={() => void runSweep()}
            >
              Run sweep
            </button>
            <span className="card-note">
              {config.granularity === 'nm'
                ? '2:4 has one sparsity; nothing to sweep.'
                : `adds a curve for the current method at ${DEFAULT_SWEEP_LABEL}`}
            </span>
            {series.length > 0 && (
              <button type="button" className="button small quiet" onClick={clearCurves}>
                Clear curves
              </button>
            )}
            {sweep.status === 'failed' && (
              <p className="error-text" role="alert">
                The sweep failed: {sweep.message}
              </p>
            )}
          </>
        )}
      </div>
      {table ? (
        <table className="cost-table chart-table" aria-label="Trade-off points">
          <thead>
            <tr>
              <th scope="col">Curve</th>
              <th scope="col">Removed</th>
              <th scope="col">{metricName}</th>
              <th scope="col">{AXIS_NAMES[axis]}</th>
              <th scope="col">Bits</th>
              <th scope="col">Pareto</th>
            </tr>
          </thead>
          <tbody>
            {[
              ...(dense ? [{ label: 'dense', p: dense }] : []),
              ...(currentPoint ? [{ label: 'current', p: currentPoint }] : []),
              ...recovered.flatMap((r) => [
                { label: `pruned, before ${r.label}`, p: r.pruned },
                { label: `recovered: ${r.label}`, p: r.recovered },
              ]),
              ...series.flatMap((s) => s.points.map((p) => ({ label: s.label, p }))),
            ].map(({ label, p }, i) => (
              <tr key={i}>
                <th scope="row">{label}</th>
                <td>{formatPercent(p.amount, 0)}</td>
                <td>{fmtMetric(p.metric)}</td>
                <td>{fmtX(p[axis])}</td>
                <td>{p.bits}</td>
                <td>{front.includes(p) ? 'yes' : ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <figure className="chart">
          <svg
            viewBox={`0 0 ${W} ${H}`}
            role="img"
            aria-label={`${metricName} against ${AXIS_NAMES[axis]}: ${series.length} curve(s)${currentPoint ? ', current configuration marked' : ''}${recovered.length ? `, ${recovered.length} recovered point(s) with arrows from their pruned ones` : ''}`}
          >
            <g className="axis">
              {x.ticks(5).map((t) => (
                <g key={`x${t}`} transform={`translate(${x(t)},0)`}>
                  <line y1={M.top} y2={H - M.bottom} className="grid" />
                  <text y={H - M.bottom + 16} textAnchor="middle">
                    {fmtX(t)}
                  </text>
                </g>
              ))}
              {y.ticks(5).map((t) => (
                <g key={`y${t}`} transform={`translate(0,${y(t)})`}>
                  <line x1={M.left} x2={W - M.right} className="grid" />
                  <text x={M.left - 6} dy="0.32em" textAnchor="end">
                    {fmtMetric(t)}
                  </text>
                </g>
              ))}
              <text x={(M.left + W - M.right) / 2} y={H - 6} textAnchor="middle" className="axis-title">
                {AXIS_NAMES[axis]}
              </text>
              <text
                transform={`translate(14,${(M.top + H - M.bottom) / 2}) rotate(-90)`}
                textAnchor="middle"
                className="axis-title"
              >
                {metricName}
              </text>
            </g>
            {front.length > 1 && <path d={path(front) ?? ''} className="pareto" />}
            {series.map((s) => (
              <g key={s.key} data-curve={s.label} className="series">
                <path d={path(s.points) ?? ''} stroke={s.color} className="series-line" />
                {s.points.map((p, i) => (
                  // biome-ignore lint/a11y/noStaticElementInteractions: a point takes focus and hover to show its values; the table view lists them as text
                  <circle
                    key={i}
                    cx={x(p[axis])}
                    cy={y(p.metric)}
                    r={5}
                    fill={fillOf(s, p)}
                    tabIndex={0}
                    className="point"
                    data-testid="sweep-point"
                    aria-label={describe(s.label, p)}
                    onFocus={() => setFocused(describe(s.label, p))}
                    onMouseEnter={() => setFocused(describe(s.label, p))}
                    onBlur={() => setFocused(null)}
                    onMouseLeave={() => setFocused(null)}
                  >
                    <title>{describe(s.label, p)}</title>
                  </circle>
                ))}
              </g>
            ))}
            {recovered.map((r) => {
              const from = { x: x(r.pruned[axis]), y: y(r.pruned.metric) };
              const to = { x: x(r.recovered[axis]), y: y(r.recovered.metric) };
              const arrow = arrowBetween(from, to, 6, 7);
              const what = describe(`recovered (${r.label})`, r.recovered);
              return (
                <g key={r.key} className="recovery" data-testid="recovery-arrow">
                  <circle cx={from.x} cy={from.y} r={4} className="recovery-from" />
                  {arrow && (
                    <g className="recovery-arrow">
                      <line x1={arrow.x1} y1={arrow.y1} x2={arrow.x2} y2={arrow.y2} />
                      <path d={arrow.head} />
                    </g>
                  )}
                  {/* biome-ignore lint/a11y/noStaticElementInteractions: a point takes focus and hover to show its values; the table view lists them as text */}
                  <rect
                    x={to.x - 5}
                    y={to.y - 5}
                    width={10}
                    height={10}
                    transform={`rotate(45 ${to.x} ${to.y})`}
                    className="recovered-point"
                    tabIndex={0}
                    data-testid="recovered-point"
                    aria-label={`${what}; pruned: ${fmtMetric(r.pruned.metric)}`}
                    onFocus={() => setFocused(`${what}; pruned: ${fmtMetric(r.pruned.metric)}`)}
                    onMouseEnter={() => setFocused(`${what}; pruned: ${fmtMetric(r.pruned.metric)}`)}
                    onBlur={() => setFocused(null)}
                    onMouseLeave={() => setFocused(null)}
                  >
                    <title>{what}</title>
                  </rect>
                </g>
              );
            })}
            {dense && (
              // biome-ignore lint/a11y/noStaticElementInteractions: a point takes focus and hover to show its values; the table view lists them as text
              <rect
                x={x(dense[axis]) - 5}
                y={y(dense.metric) - 5}
                width={10}
                height={10}
                className="dense-point"
                style={byBits ? { fill: bitsColor(dense.bits) } : undefined}
                tabIndex={0}
                aria-label={describe('dense', dense)}
                onFocus={() => setFocused(describe('dense', dense))}
                onMouseEnter={() => setFocused(describe('dense', dense))}
                onBlur={() => setFocused(null)}
                onMouseLeave={() => setFocused(null)}
              >
                <title>{describe('dense', dense)}</title>
              </rect>
            )}
            {currentPoint && (
              // biome-ignore lint/a11y/noStaticElementInteractions: a point takes focus and hover to show its values; the table view lists them as text
              <circle
                cx={x(currentPoint[axis])}
                cy={y(currentPoint.metric)}
                r={8}
                className="current-point"
                // Coloured by bits, the ring holds the point's colour.
                style={byBits ? { fill: bitsColor(currentPoint.bits) } : undefined}
                tabIndex={0}
                data-testid="current-point"
                aria-label={describe('current configuration', currentPoint)}
                onFocus={() => setFocused(describe('current configuration', currentPoint))}
                onMouseEnter={() => setFocused(describe('current configuration', currentPoint))}
                onBlur={() => setFocused(null)}
                onMouseLeave={() => setFocused(null)}
              >
                <title>{describe('current configuration', currentPoint)}</title>
              </circle>
            )}
          </svg>
          <p className="chart-readout" aria-live="polite">
            {focused ??
              (all.length
                ? 'Hover or focus a point for its values.'
                : 'No points yet: move the slider or run a sweep.')}
          </p>
          <figcaption>
            <ul className="chart-legend" aria-label="Legend">
              {series.map((s) => (
                <li key={s.key}>
                  <span className="swatch" style={{ background: s.color }} />
                  {s.label}
                  {s.running && ' (running)'}
                </li>
              ))}
              {byBits &&
                bitsPresent(all).map((b) => (
                  <li key={`bits-${b}`}>
                    <span className="swatch dot" style={{ background: bitsColor(b) }} />
                    {bitsLabel(b)}
                  </li>
                ))}
              <li>
                <span className="swatch square" />
                dense model
              </li>
              <li>
                <span className="swatch ring" />
                current configuration
              </li>
              <li>
                <span className="swatch dashed" />
                Pareto front
              </li>
              {recovered.length > 0 && (
                <li>
                  <span className="swatch diamond" />
                  recovered (arrow from the pruned point)
                </li>
              )}
            </ul>
          </figcaption>
        </figure>
      )}
    </section>
  );
}
