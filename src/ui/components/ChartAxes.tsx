// Axes, grid lines and axis titles of the layer detail's small d3 charts (SVG in a viewBox).

export interface Frame {
  width: number;
  height: number;
  margin: { top: number; right: number; bottom: number; left: number };
}

interface AxisSpec {
  scale: (v: number) => number;
  ticks: number[];
  format: (v: number) => string;
  title: string;
}

/** Ticks with grid lines across the plot, tick labels, and a title under x and beside y. */
export function ChartAxes({ frame, x, y }: { frame: Frame; x: AxisSpec; y: AxisSpec }) {
  const { width: W, height: H, margin: M } = frame;
  return (
    <g className="axis">
      {x.ticks.map((t) => (
        <g key={`x${t}`} transform={`translate(${x.scale(t)},0)`}>
          <line y1={M.top} y2={H - M.bottom} className="grid" />
          <text y={H - M.bottom + 15} textAnchor="middle">
            {x.format(t)}
          </text>
        </g>
      ))}
      {y.ticks.map((t) => (
        <g key={`y${t}`} transform={`translate(0,${y.scale(t)})`}>
          <line x1={M.left} x2={W - M.right} className="grid" />
          <text x={M.left - 6} dy="0.32em" textAnchor="end">
            {y.format(t)}
          </text>
        </g>
      ))}
      <line x1={M.left} x2={W - M.right} y1={H - M.bottom} y2={H - M.bottom} className="axis-line" />
      <text className="axis-title" x={(M.left + W - M.right) / 2} y={H - 6} textAnchor="middle">
        {x.title}
      </text>
      <text
        className="axis-title"
        transform={`translate(13,${(M.top + H - M.bottom) / 2}) rotate(-90)`}
        textAnchor="middle"
      >
        {y.title}
      </text>
    </g>
  );
}

/** A vertical line across the plot at x, labelled above it; the label turns inward near either edge. */
export function ChartMarker({
  frame,
  x,
  label,
  style,
}: {
  frame: Frame;
  x: number;
  label: string;
  style: 'threshold' | 'reference';
}) {
  const { width: W, height: H, margin: M } = frame;
  const anchor = x > W - 170 ? 'end' : x < M.left + 120 ? 'start' : 'middle';
  return (
    <g className={`detail-marker marker-${style}`}>
      <line x1={x} x2={x} y1={M.top - 4} y2={H - M.bottom} />
      <text x={x} y={M.top - 8} textAnchor={anchor}>
        {label}
      </text>
    </g>
  );
}
