// Selecting which weights to keep from their scores. Every selection is exact (the requested count
// is kept, never "about" it) and deterministic: equal scores are broken by position, the earlier
// kept first, and NaN scores rank below everything. All masks are 0/1 Uint8Arrays.
import { byRowBands } from '../backends/wasm-simd';

/** Orders indices best first: higher score, then lower index. NaN counts as the lowest score. */
export function better(scores: ArrayLike<number>, a: number, b: number): number {
  const x = scores[a];
  const y = scores[b];
  const xn = Number.isNaN(x);
  const yn = Number.isNaN(y);
  if (xn !== yn) return xn ? 1 : -1;
  if (!xn && x !== y) return y - x;
  return a - b;
}

/**
 * Keeps exactly `keep` entries over all groups together (one global threshold): the best scores,
 * ties broken by position in the concatenation, NaN only once every number is kept. Returns one
 * mask per group. `prepared`: what prepareScores made of these very arrays, which a slider keeps
 * across its steps; without it many f32 scores are counted into a histogram, few selected from a copy.
 */
export function globalTopK(groups: ArrayLike<number>[], keep: number, prepared?: PreparedScores): Uint8Array[] {
  const total = groups.reduce((a, g) => a + g.length, 0);
  if (!Number.isInteger(keep) || keep < 0 || keep > total)
    throw new Error(`keep must be an integer in [0, ${total}], got ${keep}`);
  if (prepared) {
    if (prepared.groups.length !== groups.length || prepared.groups.some((g, i) => g !== groups[i]))
      throw new Error('the prepared scores are of other arrays');
    const f32 = groups as Float32Array[];
    return prepared.kind === 'histogram'
      ? topKByHistogram(f32, keep, prepared)
      : maskByThreshold(f32, keep, thresholdOfSorted(prepared.numbers, keep));
  }
  if (total >= HISTOGRAM_MIN && groups.every((g) => g instanceof Float32Array)) {
    const f32 = groups as Float32Array[];
    return topKByHistogram(f32, keep, scoreHistogram(f32));
  }
  const one = groups.length === 1 && groups[0] instanceof Float32Array ? groups[0] : null;
  const byKernel = one && kernelRowsTopK(one, 1, one.length, keep);
  return byKernel ? [byKernel] : maskByThreshold(groups, keep, thresholdBySelection(groups, keep));
}

/** The keep-th best number (Infinity for none), how many numbers beat it, and how many numbers there are. */
interface Threshold {
  threshold: number;
  above: number;
  count: number;
}

/** Masks keeping what beats the threshold, then its ties and then NaN in position order, `keep` in all. */
function maskByThreshold(groups: ArrayLike<number>[], keep: number, t: Threshold): Uint8Array[] {
  const { threshold, above, count } = t;
  const keepNumbers = Math.min(keep, count);
  let nanLeft = keep - keepNumbers;
  let tiesLeft = keepNumbers - above;
  return groups.map((g) => {
    const m = new Uint8Array(g.length);
    for (let i = 0; i < g.length; i++) {
      const s = g[i];
      if (s > threshold) m[i] = 1;
      else if (s === threshold && tiesLeft > 0) {
        m[i] = 1;
        tiesLeft--;
      } else if (nanLeft > 0 && Number.isNaN(s)) {
        m[i] = 1;
        nanLeft--;
      }
    }
    return m;
  });
}

/** The threshold selected from a copy of every number (f32 scores in f32, others in f64: exact either way). */
function thresholdBySelection(groups: ArrayLike<number>[], keep: number): Threshold {
  const total = groups.reduce((a, g) => a + g.length, 0);
  const numbers = groups.every((g) => g instanceof Float32Array) ? new Float32Array(total) : new Float64Array(total);
  const count = copyNumbers(groups, numbers);
  const keepNumbers = Math.min(keep, count);
  const threshold = keepNumbers > 0 ? kthSmallest(numbers, count, count - keepNumbers) : Infinity;
  let above = 0;
  for (let i = 0; i < count; i++) if (numbers[i] > threshold) above++;
  return { threshold, above, count };
}

/** Copies the groups' scores that are numbers (not NaN) to the start of `into`; returns how many. */
function copyNumbers(groups: ArrayLike<number>[], into: Float32Array | Float64Array): number {
  let count = 0;
  for (const g of groups) for (let i = 0; i < g.length; i++) if (!Number.isNaN(g[i])) into[count++] = g[i];
  return count;
}

/** The threshold read from the numbers sorted ascending: the keep-th from the top, and a binary search for what beats it. */
function thresholdOfSorted(numbers: Float32Array, keep: number): Threshold {
  const count = numbers.length;
  const keepNumbers = Math.min(keep, count);
  if (keepNumbers === 0) return { threshold: Infinity, above: 0, count };
  const threshold = numbers[count - keepNumbers];
  let lo = count - keepNumbers;
  let hi = count;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (numbers[mid] > threshold) hi = mid;
    else lo = mid + 1;
  }
  return { threshold, above: count - lo, count };
}

const BUCKETS = 1 << 16;

/**
 * Scores from which selection goes through a histogram: below it, a copy of the numbers (sorted
 * once when prepared, else quickselected) is faster than 65,536 buckets (a layer of 4,096 scores
 * paid 0.3 ms for allocating and scanning them).
 */
const HISTOGRAM_MIN = BUCKETS;

/**
 * An f32's bits (read as an int32) as an int32 in the numbers' order, −0 as +0 (they compare equal);
 * NaN is screened out before. Int32 throughout, so V8 keeps the loops on small integers.
 */
const orderKey = (bits: number) => (bits >= 0 ? bits : bits === -0x80000000 ? 0 : bits ^ 0x7fffffff);
const isNaNBits = (bits: number) => (bits & 0x7fffffff) > 0x7f800000;
/** The bucket of an order key: its top 16 bits (the sign, the exponent and 7 bits of the mantissa). */
const bucketOf = (key: number) => (key >> 16) + (BUCKETS >> 1);
const bitsOf = (g: Float32Array) => new Int32Array(g.buffer, g.byteOffset, g.length);

/**
 * What selection keeps of a set of f32 scores, which do not change with the sparsity, so that a
 * slider step selects in one pass over them: for many scores, how many fall in each of 65,536
 * buckets of their order-preserving bits; for few, the numbers sorted.
 */
export type PreparedScores = ScoreHistogram | SortedScores;

interface ScoreHistogram {
  kind: 'histogram';
  /** The arrays prepared, in order (selection checks it is given the same ones). */
  groups: readonly Float32Array[];
  counts: Int32Array;
  /** Scores that are numbers (not NaN). */
  count: number;
}

interface SortedScores {
  kind: 'sorted';
  groups: readonly Float32Array[];
  /** Every score that is a number, ascending. */
  numbers: Float32Array;
}

/** `histogramFrom`: the number of scores from which a histogram is counted (tests count one for a few). */
export function prepareScores(groups: Float32Array[], histogramFrom = HISTOGRAM_MIN): PreparedScores {
  const total = groups.reduce((a, g) => a + g.length, 0);
  if (total >= histogramFrom) return scoreHistogram(groups);
  const numbers = new Float32Array(total);
  const count = copyNumbers(groups, numbers);
  return { kind: 'sorted', groups: [...groups], numbers: sortNumbers(numbers.subarray(0, count)) };
}

/** Bits of the order key sorted on in each radix pass: three passes cover 32. */
const RADIX_BITS = 11;

/**
 * Numbers (no NaN) ascending, −0 read as +0 (they compare equal): a least-significant-digit radix
 * sort of their order keys, three passes of 11 bits. A typed array's sort compares pairs: 19 ms
 * over vit-fashion's 24 layers, more than the rest of a one-shot magnitude pruning.
 */
function sortNumbers(numbers: Float32Array): Float32Array {
  const n = numbers.length;
  const bits = bitsOf(numbers);
  // Order keys with the sign flipped: their unsigned order (digits read by >>>) is the numbers'.
  let keys = new Int32Array(n);
  let spare = new Int32Array(n);
  for (let i = 0; i < n; i++) keys[i] = orderKey(bits[i]) ^ 0x80000000;
  const radix = 1 << RADIX_BITS;
  const offsets = new Int32Array(radix);
  for (let shift = 0; shift < 32; shift += RADIX_BITS) {
    offsets.fill(0);
    for (let i = 0; i < n; i++) offsets[(keys[i] >>> shift) & (radix - 1)]++;
    let at = 0;
    for (let d = 0; d < radix; d++) {
      const c = offsets[d];
      offsets[d] = at;
      at += c;
    }
    for (let i = 0; i < n; i++) spare[offsets[(keys[i] >>> shift) & (radix - 1)]++] = keys[i];
    [keys, spare] = [spare, keys];
  }
  for (let i = 0; i < n; i++) {
    const key = keys[i] ^ 0x80000000;
    keys[i] = key >= 0 ? key : key ^ 0x7fffffff;
  }
  return new Float32Array(keys.buffer, 0, n);
}

function scoreHistogram(groups: Float32Array[]): ScoreHistogram {
  const counts = new Int32Array(BUCKETS);
  let count = 0;
  for (const g of groups) {
    const bits = bitsOf(g);
    for (let i = 0; i < bits.length; i++) {
      const b = bits[i];
      if (isNaNBits(b)) continue;
      counts[bucketOf(orderKey(b))]++;
      count++;
    }
  }
  return { kind: 'histogram', groups: [...groups], counts, count };
}

/**
 * globalTopK of f32 scores from their histogram: the bucket holding the threshold is known from the
 * counts, so one pass keeps every score of a higher bucket and gathers that bucket's scores (in
 * position order), and the selection runs among those only.
 */
function topKByHistogram(groups: Float32Array[], keep: number, h: ScoreHistogram): Uint8Array[] {
  const { counts, count } = h;
  const masks = groups.map((g) => new Uint8Array(g.length));
  const keepNumbers = Math.min(keep, count);
  let nanLeft = keep - keepNumbers;
  // The (count − keepNumbers)-th smallest number lies in the bucket where the running count passes
  // it; with no number kept, past the last bucket.
  const k = count - keepNumbers;
  let below = 0;
  let bucket = keepNumbers === 0 ? BUCKETS : 0;
  if (keepNumbers > 0) while (below + counts[bucket] <= k) below += counts[bucket++];
  const size = bucket < BUCKETS ? counts[bucket] : 0;
  const values = new Float32Array(size);
  const group = new Int32Array(size);
  const index = new Int32Array(size);
  let n = 0;
  for (let gi = 0; gi < groups.length; gi++) {
    const g = groups[gi];
    const bits = bitsOf(g);
    const m = masks[gi];
    for (let i = 0; i < bits.length; i++) {
      const b = bits[i];
      if (isNaNBits(b)) {
        if (nanLeft > 0) {
          m[i] = 1;
          nanLeft--;
        }
        continue;
      }
      const q = bucketOf(orderKey(b));
      if (q > bucket) m[i] = 1;
      else if (q === bucket) {
        values[n] = g[i];
        group[n] = gi;
        index[n++] = i;
      }
    }
  }
  if (n === 0) return masks;
  const threshold = kthSmallest(values.slice(), n, k - below);
  let tiesLeft = keepNumbers - (count - below - n);
  for (let i = 0; i < n; i++) if (values[i] > threshold) tiesLeft--;
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (v > threshold) masks[group[i]][index[i]] = 1;
    else if (v === threshold && tiesLeft > 0) {
      masks[group[i]][index[i]] = 1;
      tiesLeft--;
    }
  }
  return masks;
}

/** Keeps exactly `keep` of one tensor's scores (through `prepared`, prepareScores([scores]), when given). */
export function topKMask(scores: ArrayLike<number>, keep: number, prepared?: PreparedScores): Uint8Array {
  return globalTopK([scores], keep, prepared)[0];
}

/**
 * Keeps the best `keepPerRow` of every row of a [rows, cols] score matrix (row-major) — Wanda's
 * comparison group when rows are a linear layer's outputs.
 */
export function rowTopKMask(scores: ArrayLike<number>, rows: number, cols: number, keepPerRow: number): Uint8Array {
  if (scores.length !== rows * cols) throw new Error(`rowTopKMask: ${scores.length} scores for ${rows}×${cols}`);
  if (!Number.isInteger(keepPerRow) || keepPerRow < 0 || keepPerRow > cols)
    throw new Error(`keepPerRow must be an integer in [0, ${cols}], got ${keepPerRow}`);
  return (
    (scores instanceof Float32Array && kernelRowsTopK(scores, rows, cols, keepPerRow)) ||
    rowTopKMaskLoops(scores, rows, cols, keepPerRow)
  );
}

/**
 * rowTopKMask as the engine's WebAssembly kernel (rowsTopK, whose twin is rowTopKMaskLoops), or
 * null where there is none: compiled before it first runs, where these loops start interpreted. A
 * one-shot pruning of a small model selects once: vit-fashion's 24 layers took ~20 ms of cold
 * loops, where the same loops once warm take ~2 ms.
 */
function kernelRowsTopK(scores: Float32Array, rows: number, cols: number, keep: number): Uint8Array | null {
  return byRowBands(scores, rows, cols, Uint8Array, 4 * cols, (kernels, _memory, n, numbersAt, maskAt) =>
    kernels.rowsTopK(0, n, cols, keep, numbersAt, maskAt),
  );
}

/** rowTopKMask's plain loops: the kernel's twin, and where WebAssembly SIMD is not. */
export function rowTopKMaskLoops(
  scores: ArrayLike<number>,
  rows: number,
  cols: number,
  keepPerRow: number,
): Uint8Array {
  const mask = new Uint8Array(rows * cols);
  // Per row, the threshold selected from its numbers (f64: exact for any input), then one pass in
  // index order keeps what beats it and the first of its ties: the order `better` defines, without
  // sorting indices by a comparator (16 s for GPT-2 small's 85 M weights).
  const numbers = new Float64Array(cols);
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    let count = 0;
    for (let c = 0; c < cols; c++) {
      const s = scores[base + c];
      if (!Number.isNaN(s)) numbers[count++] = s;
    }
    const keepNumbers = Math.min(keepPerRow, count);
    let nanLeft = keepPerRow - keepNumbers;
    if (keepNumbers === 0 && nanLeft === 0) continue;
    const threshold = keepNumbers > 0 ? kthSmallest(numbers, count, count - keepNumbers) : Infinity;
    let above = 0;
    for (let c = 0; c < cols; c++) if (scores[base + c] > threshold) above++;
    let tiesLeft = keepNumbers - above;
    for (let c = 0; c < cols; c++) {
      const s = scores[base + c];
      if (s > threshold) mask[base + c] = 1;
      else if (s === threshold && tiesLeft > 0) {
        mask[base + c] = 1;
        tiesLeft--;
      } else if (nanLeft > 0 && Number.isNaN(s)) {
        mask[base + c] = 1;
        nanLeft--;
      }
    }
  }
  return mask;
}

/**
 * The k-th smallest (from 0) of a[0..n), by Hoare's selection with a median-of-three pivot; a is
 * reordered. No NaN in a.
 */
function kthSmallest(a: Float32Array | Float64Array, n: number, k: number): number {
  let lo = 0;
  let hi = n - 1;
  while (hi > lo) {
    const x = a[lo];
    const y = a[(lo + hi) >> 1];
    const pivot = Math.max(Math.min(x, y), Math.min(Math.max(x, y), a[hi])); // the median of three
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
      if (i <= j) {
        const t = a[i];
        a[i++] = a[j];
        a[j--] = t;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return a[k];
  }
  return a[lo];
}

/** How many of n entries a sparsity in [0, 1] keeps: round((1 − s) · n). */
export function keepCount(n: number, sparsity: number): number {
  if (!(sparsity >= 0 && sparsity <= 1)) throw new Error(`sparsity must be in [0, 1], got ${sparsity}`);
  return Math.round((1 - sparsity) * n);
}
