// The trade-off chart's reading of its points, pure: which points no other beats (the Pareto front),
// and the colour a point takes when the chart colours by the bits its weights are stored at.
import { QUANT_BITS } from '../engine/pruning/catalogue';
import { type ChartPoint, FULL_BITS } from './config-slice';
import type { Axis } from './share';

/**
 * The Pareto front: the points no other point beats on both cost (lower) and metric (higher accuracy,
 * or lower bits per byte), by increasing cost. Of points with the same cost the best metric stands
 * for them; of equal points (same cost and metric) the first in `points` does.
 */
export function paretoFront(points: readonly ChartPoint[], axis: Axis, higherIsBetter: boolean): ChartPoint[] {
  const better = (a: number, b: number) => (higherIsBetter ? a > b : a < b);
  const sorted = points
    .map((p, i) => ({ p, i }))
    .sort(
      (a, b) =>
        a.p[axis] - b.p[axis] || (higherIsBetter ? b.p.metric - a.p.metric : a.p.metric - b.p.metric) || a.i - b.i,
    )
    .map(({ p }) => p);
  const front: ChartPoint[] = [];
  for (const p of sorted) if (front.length === 0 || better(p.metric, front[front.length - 1].metric)) front.push(p);
  return front;
}

/** One colour per bit width the page offers, and a neutral one for 32-bit floats; darker is fewer bits. */
const BITS_COLORS: Record<number, string> = { [FULL_BITS]: '#8a94a6', 8: '#4e79a7', 4: '#f28e2b', 3: '#b0333a' };

/** The colour of a point stored at `bits` (any other width the CLI made: a grey of its own). */
export const bitsColor = (bits: number): string => BITS_COLORS[bits] ?? '#5b6678';

/** The bit widths a colour legend lists: those among the points, fewest bits last, as the page offers them. */
export function bitsPresent(points: readonly ChartPoint[]): number[] {
  const order = [FULL_BITS, ...QUANT_BITS] as number[];
  const present = new Set(points.map((p) => p.bits));
  return [
    ...order.filter((b) => present.has(b)),
    ...[...present].filter((b) => !order.includes(b)).sort((a, b) => b - a),
  ];
}

/** "32-bit float", "4-bit". */
export const bitsLabel = (bits: number): string => (bits === FULL_BITS ? '32-bit float' : `${bits}-bit`);

/** A straight arrow between two markers: its line and its head, a triangle at the far end. */
export interface Arrow {
  x1: number;
  y1: number;
  x2: number;
  y2: number;
  /** The head as an SVG path. */
  head: string;
}

/**
 * The arrow from the marker at `from` to the one at `to` (chart coordinates), leaving `gapFrom` and
 * `gapTo` clear around them so that it touches neither; null when they are too close for one.
 */
export function arrowBetween(
  from: { x: number; y: number },
  to: { x: number; y: number },
  gapFrom: number,
  gapTo: number,
  headSize = 6,
): Arrow | null {
  const dx = to.x - from.x;
  const dy = to.y - from.y;
  const length = Math.hypot(dx, dy);
  if (length <= gapFrom + gapTo + headSize) return null;
  const ux = dx / length;
  const uy = dy / length;
  const x2 = to.x - ux * gapTo;
  const y2 = to.y - uy * gapTo;
  const bx = x2 - ux * headSize;
  const by = y2 - uy * headSize;
  const px = (-uy * headSize) / 2;
  const py = (ux * headSize) / 2;
  const r = (v: number) => Math.round(v * 100) / 100;
  return {
    x1: r(from.x + ux * gapFrom),
    y1: r(from.y + uy * gapFrom),
    x2: r(bx),
    y2: r(by),
    head: `M${r(x2)},${r(y2)}L${r(bx + px)},${r(by + py)}L${r(bx - px)},${r(by - py)}Z`,
  };
}
