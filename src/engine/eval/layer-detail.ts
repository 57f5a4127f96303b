// What the layer detail view shows of one linear layer: histograms of its weights and of the
// pruning method's scores, each split into kept and removed; the score threshold the mask actually
// implies (read from the mask, never recomputed from a target); and the mask as a small image. Plain
// data from plain arrays, so the worker computes it and the page only draws it.
import type { HostTensor } from '../model/checkpoint';
import type { ModelConfig } from '../model/config';
import type { LinearSpec } from '../model/schema';
import { toRows } from '../pruning/layout';
import { physicallyPrune, type StructuralMasks } from '../pruning/structured/physical';

/** Counts per bin, split by the mask. */
export interface Histogram {
  scale: 'log' | 'linear';
  /** Bin edges, ascending, one more than the bins; empty when no value fits the scale. */
  edges: number[];
  kept: number[];
  removed: number[];
  /** Values a log scale cannot place (zero or negative scores), kept and removed. */
  zeros: { kept: number; removed: number };
}

/** Where the mask splits the scores. Scores compare within the layer, or within each output row (Wanda). */
export type LayerThreshold =
  | { kind: 'none'; reason: 'nothing removed' | 'everything removed' }
  /** One value separates them: every kept score ≥ value ≥ every removed score. */
  | {
      kind: 'single';
      value: number;
      largestRemoved: number /** removed weights scoring exactly `value` (ties, broken by position) */;
      tiedRemoved: number;
    }
  /** Each output row has its own threshold (its smallest kept score); their distribution. */
  | {
      kind: 'per-row';
      median: number;
      q1: number;
      q3: number;
      min: number;
      max: number;
      rows: number /** rows where one value does not separate kept from removed */;
      mixedRows: number;
    }
  /**
   * No single value separates kept from removed (N:M groups, SparseGPT's own saliency, whole
   * structures): `quantile` would remove as many weights, and `differ` of the kept ones fall below it.
   */
  | { kind: 'mixed'; quantile: number; differ: number; smallestKept: number; largestRemoved: number };

/** The mask as an image: rows are output features, columns input features, each cell the share kept (0..255). */
export interface MaskImage {
  width: number;
  height: number;
  /** The matrix it was drawn from: [outFeatures, inFeatures]. */
  rows: number;
  cols: number;
  data: Uint8Array;
}

export interface LayerDetailData {
  kept: number;
  removed: number;
  weights: Histogram;
  scores: Histogram;
  threshold: LayerThreshold;
  mask: MaskImage;
}

export const HISTOGRAM_BINS = 40;
export const MASK_CELLS = 256;

/** How values map onto a histogram's axis and back. */
interface Axis {
  to(v: number): number;
  from(t: number): number;
  /** Whether a value has a place on this axis. */
  fits(v: number): boolean;
}

const LOG_AXIS: Axis = { to: Math.log, from: Math.exp, fits: (v) => v > 0 && v < Infinity };
const LINEAR_AXIS: Axis = { to: (v) => v, from: (t) => t, fits: Number.isFinite };

/** Counts `values` into `bins` equal bins of the axis over [lo, hi]; the ends are clamped in. */
function binned(
  values: ArrayLike<number>,
  mask: ArrayLike<number>,
  lo: number,
  hi: number,
  bins: number,
  axis: Axis,
): Omit<Histogram, 'scale'> {
  const kept = new Array<number>(bins).fill(0);
  const removed = new Array<number>(bins).fill(0);
  const zeros = { kept: 0, removed: 0 };
  const a = axis.to(lo);
  const step = (axis.to(hi) - a) / bins;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (Number.isNaN(v)) continue;
    const isKept = mask[i] !== 0;
    if (!axis.fits(v)) {
      if (isKept) zeros.kept++;
      else zeros.removed++;
      continue;
    }
    const b = Math.min(bins - 1, Math.max(0, Math.floor((axis.to(v) - a) / step)));
    if (isKept) kept[b]++;
    else removed[b]++;
  }
  const edges = Array.from({ length: bins + 1 }, (_, i) => (i === 0 ? lo : i === bins ? hi : axis.from(a + i * step)));
  return { edges, kept, removed, zeros };
}

/** Log-spaced bins from the smallest positive value to the largest; zeros are counted apart. */
export function logHistogram(values: ArrayLike<number>, mask: ArrayLike<number>, bins = HISTOGRAM_BINS): Histogram {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (LOG_AXIS.fits(v)) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
  }
  if (hi < lo) {
    const none = binned(values, mask, 1, 2, 1, LOG_AXIS);
    return { scale: 'log', edges: [], kept: [], removed: [], zeros: none.zeros };
  }
  // One distinct value still gets a bin of visible width.
  if (hi === lo) [lo, hi] = [lo / 2, hi * 2];
  return { scale: 'log', ...binned(values, mask, lo, hi, bins, LOG_AXIS) };
}

/** Equal bins symmetric about zero, for signed weights. */
export function linearHistogram(values: ArrayLike<number>, mask: ArrayLike<number>, bins = HISTOGRAM_BINS): Histogram {
  let a = 0;
  for (let i = 0; i < values.length; i++) if (Number.isFinite(values[i])) a = Math.max(a, Math.abs(values[i]));
  if (a === 0) a = 1;
  return { scale: 'linear', ...binned(values, mask, -a, a, bins, LINEAR_AXIS) };
}

interface Split {
  kept: number;
  removed: number;
  smallestKept: number;
  largestRemoved: number;
}

/** Kept and removed counts of scores[from, to), with the smallest kept and the largest removed score. */
function split(scores: ArrayLike<number>, mask: ArrayLike<number>, from = 0, to = scores.length): Split {
  const s: Split = { kept: 0, removed: 0, smallestKept: Infinity, largestRemoved: -Infinity };
  for (let i = from; i < to; i++) {
    const v = scores[i];
    if (mask[i] !== 0) {
      s.kept++;
      if (v < s.smallestKept) s.smallestKept = v;
    } else {
      s.removed++;
      if (v > s.largestRemoved) s.largestRemoved = v;
    }
  }
  return s;
}

/** The p-quantile (0..1) of sorted values, linearly interpolated. */
function quantile(sorted: Float64Array, p: number): number {
  const x = p * (sorted.length - 1);
  const i = Math.floor(x);
  return i + 1 < sorted.length ? sorted[i] + (x - i) * (sorted[i + 1] - sorted[i]) : sorted[i];
}

/**
 * The threshold a mask implies on [rows, cols] scores (rows = output features). `comparison` says
 * which weights competed: the whole layer (magnitude, Taylor, global scope...) or each output row.
 */
export function layerThreshold(
  scores: ArrayLike<number>,
  mask: ArrayLike<number>,
  rows: number,
  cols: number,
  comparison: 'layer' | 'row',
): LayerThreshold {
  if (scores.length !== rows * cols || mask.length !== rows * cols)
    throw new Error(`layerThreshold: ${scores.length} scores and ${mask.length} mask entries for ${rows}×${cols}`);
  const all = split(scores, mask);
  if (all.removed === 0) return { kind: 'none', reason: 'nothing removed' };
  if (all.kept === 0) return { kind: 'none', reason: 'everything removed' };
  if (comparison === 'row') {
    const values: number[] = [];
    let mixedRows = 0;
    for (let r = 0; r < rows; r++) {
      const s = split(scores, mask, r * cols, (r + 1) * cols);
      if (s.kept === 0 || s.removed === 0) continue;
      values.push(s.smallestKept);
      if (s.largestRemoved > s.smallestKept) mixedRows++;
    }
    const sorted = Float64Array.from(values).sort();
    // Rows split one way or the other only (possible under structural masks): the layer decides.
    if (sorted.length > 0)
      return {
        kind: 'per-row',
        median: quantile(sorted, 0.5),
        q1: quantile(sorted, 0.25),
        q3: quantile(sorted, 0.75),
        min: sorted[0],
        max: sorted[sorted.length - 1],
        rows: sorted.length,
        mixedRows,
      };
  }
  if (all.largestRemoved <= all.smallestKept) {
    let tiedRemoved = 0;
    for (let i = 0; i < scores.length; i++) if (mask[i] === 0 && scores[i] === all.smallestKept) tiedRemoved++;
    return { kind: 'single', value: all.smallestKept, largestRemoved: all.largestRemoved, tiedRemoved };
  }
  // The score of the kept-th best weight: a plain threshold there removes as many.
  const sorted = Float64Array.from(scores).sort();
  const q = sorted[sorted.length - all.kept];
  let differ = 0;
  for (let i = 0; i < scores.length; i++) if (mask[i] !== 0 && scores[i] < q) differ++;
  return { kind: 'mixed', quantile: q, differ, smallestKept: all.smallestKept, largestRemoved: all.largestRemoved };
}

/** The share kept in each cell of a grid of at most `maxCells` × `maxCells` over a [rows, cols] mask. */
export function maskImage(mask: ArrayLike<number>, rows: number, cols: number, maxCells = MASK_CELLS): MaskImage {
  if (mask.length !== rows * cols) throw new Error(`maskImage: ${mask.length} entries for ${rows}×${cols}`);
  const height = Math.min(rows, maxCells);
  const width = Math.min(cols, maxCells);
  const kept = new Float64Array(width * height);
  const count = new Float64Array(width * height);
  for (let r = 0; r < rows; r++) {
    const y = Math.floor((r * height) / rows);
    for (let c = 0; c < cols; c++) {
      const cell = y * width + Math.floor((c * width) / cols);
      kept[cell] += mask[r * cols + c] !== 0 ? 1 : 0;
      count[cell]++;
    }
  }
  return { width, height, rows, cols, data: Uint8Array.from(kept, (k, i) => Math.round((255 * k) / count[i])) };
}

/**
 * A block linear's per-weight mask under structural masks (heads, neurons, sublayers), in the
 * checkpoint's layout. It asks the export's own cutting (physicallyPrune) which entries survive, by
 * handing it the weight's positions instead of its values: one definition of what a removed head or
 * neuron takes away.
 */
export function structuralWeightMask(
  config: ModelConfig,
  host: Map<string, HostTensor>,
  spec: LinearSpec,
  masks: StructuralMasks,
): Uint8Array {
  const w = host.get(spec.weight);
  if (!w) throw new Error(`no weight "${spec.weight}"`);
  const n = w.data.length;
  // Positions 1..n are exact in float32 up to 2^24 entries.
  if (n >= 2 ** 24) throw new Error(`${spec.weight} is too large to map (${n} entries)`);
  const positions: HostTensor = { shape: w.shape, data: Float32Array.from({ length: n }, (_, i) => i + 1) };
  const cut = physicallyPrune(config, new Map(host).set(spec.weight, positions), masks).weights.get(spec.weight)!;
  const mask = new Uint8Array(n);
  for (const p of cut.data) mask[p - 1] = 1;
  return mask;
}

/**
 * Everything the detail view draws of one layer, from its weights and scores (checkpoint layout)
 * and its mask (checkpoint layout; null when nothing was pruned).
 */
export function layerDetailData(
  spec: LinearSpec,
  weights: Float32Array,
  scores: Float32Array,
  mask: Uint8Array | null,
  comparison: 'layer' | 'row',
): LayerDetailData {
  const m = mask ?? new Uint8Array(weights.length).fill(1);
  const kept = m.reduce((a, v) => a + (v !== 0 ? 1 : 0), 0);
  const maskRows = toRows(m, spec);
  return {
    kept,
    removed: m.length - kept,
    weights: linearHistogram(weights, m),
    scores: logHistogram(scores, m),
    threshold: layerThreshold(toRows(scores, spec), maskRows, spec.outFeatures, spec.inFeatures, comparison),
    mask: maskImage(maskRows, spec.outFeatures, spec.inFeatures),
  };
}
