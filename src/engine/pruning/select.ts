// Selecting which weights to keep from their scores. Every selection is exact (the requested count
// is kept, never "about" it) and deterministic: equal scores are broken by position, the earlier
// kept first, and NaN scores rank below everything. All masks are 0/1 Uint8Arrays.

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
 * mask per group.
 */
export function globalTopK(groups: ArrayLike<number>[], keep: number): Uint8Array[] {
  const total = groups.reduce((a, g) => a + g.length, 0);
  if (!Number.isInteger(keep) || keep < 0 || keep > total)
    throw new Error(`keep must be an integer in [0, ${total}], got ${keep}`);
  const masks = groups.map((g) => new Uint8Array(g.length));
  const { threshold, above, count } = groups.every((g) => g instanceof Float32Array)
    ? thresholdByHistogram(groups as Float32Array[], keep)
    : thresholdBySelection(groups, keep);
  const keepNumbers = Math.min(keep, count);
  let nanLeft = keep - keepNumbers;
  let tiesLeft = keepNumbers - above;
  groups.forEach((g, gi) => {
    const m = masks[gi];
    for (let i = 0; i < g.length; i++) {
      const s = g[i];
      if (s > threshold) m[i] = 1;
      else if (s === threshold && tiesLeft > 0) {
        m[i] = 1;
        tiesLeft--;
      } else if (Number.isNaN(s) && nanLeft > 0) {
        m[i] = 1;
        nanLeft--;
      }
    }
  });
  return masks;
}

/** The keep-th best number (Infinity for none), how many numbers beat it, and how many numbers there are. */
interface Threshold {
  threshold: number;
  above: number;
  count: number;
}

/** The threshold selected from a copy of every number (f32 scores in f32, others in f64: exact either way). */
function thresholdBySelection(groups: ArrayLike<number>[], keep: number): Threshold {
  const total = groups.reduce((a, g) => a + g.length, 0);
  const numbers = groups.every((g) => g instanceof Float32Array) ? new Float32Array(total) : new Float64Array(total);
  let count = 0;
  for (const g of groups) for (let i = 0; i < g.length; i++) if (!Number.isNaN(g[i])) numbers[count++] = g[i];
  const keepNumbers = Math.min(keep, count);
  const threshold = keepNumbers > 0 ? kthSmallest(numbers, count, count - keepNumbers) : Infinity;
  let above = 0;
  for (let i = 0; i < count; i++) if (numbers[i] > threshold) above++;
  return { threshold, above, count };
}

const BUCKET_SHIFT = 16;

/** An f32's bits as an unsigned key in the numbers' order (−0 as +0, which compare equal); −1 for NaN. */
function orderKey(bits: number): number {
  if ((bits & 0x7fffffff) > 0x7f800000) return -1;
  if (bits === 0x80000000 || bits === 0) return 0x80000000;
  return bits & 0x80000000 ? ~bits >>> 0 : (bits | 0x80000000) >>> 0;
}

const bitsOf = (g: Float32Array) => new Uint32Array(g.buffer, g.byteOffset, g.length);

/**
 * The threshold of f32 scores by a histogram of 65,536 buckets of their order-preserving bit pattern
 * (the sign, the exponent and 7 bits of the mantissa): one pass counts, a second gathers the bucket
 * that holds the threshold, and the selection runs among that bucket's numbers only, where
 * quickselect over a copy of them all makes several passes.
 */
function thresholdByHistogram(groups: Float32Array[], keep: number): Threshold {
  const counts = new Uint32Array(1 << (32 - BUCKET_SHIFT));
  let count = 0;
  for (const g of groups) {
    const bits = bitsOf(g);
    for (let i = 0; i < bits.length; i++) {
      const key = orderKey(bits[i]);
      if (key < 0) continue;
      counts[key >>> BUCKET_SHIFT]++;
      count++;
    }
  }
  const keepNumbers = Math.min(keep, count);
  if (keepNumbers === 0) return { threshold: Infinity, above: 0, count };
  // The (count − keepNumbers)-th smallest number lies in the bucket where the running count passes it.
  const k = count - keepNumbers;
  let below = 0;
  let bucket = 0;
  while (below + counts[bucket] <= k) below += counts[bucket++];
  const inBucket = new Float32Array(counts[bucket]);
  let n = 0;
  for (const g of groups) {
    const bits = bitsOf(g);
    for (let i = 0; i < bits.length; i++) {
      const key = orderKey(bits[i]);
      if (key >= 0 && key >>> BUCKET_SHIFT === bucket) inBucket[n++] = g[i];
    }
  }
  const threshold = kthSmallest(inBucket, n, k - below);
  let above = count - below - n;
  for (let i = 0; i < n; i++) if (inBucket[i] > threshold) above++;
  return { threshold, above, count };
}

/** Keeps exactly `keep` of one tensor's scores. */
export function topKMask(scores: ArrayLike<number>, keep: number): Uint8Array {
  return globalTopK([scores], keep)[0];
}

/**
 * Keeps the best `keepPerRow` of every row of a [rows, cols] score matrix (row-major) — Wanda's
 * comparison group when rows are a linear layer's outputs.
 */
export function rowTopKMask(scores: ArrayLike<number>, rows: number, cols: number, keepPerRow: number): Uint8Array {
  if (scores.length !== rows * cols) throw new Error(`rowTopKMask: ${scores.length} scores for ${rows}×${cols}`);
  if (!Number.isInteger(keepPerRow) || keepPerRow < 0 || keepPerRow > cols)
    throw new Error(`keepPerRow must be an integer in [0, ${cols}], got ${keepPerRow}`);
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
