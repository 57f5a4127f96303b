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
  // f32 scores selected in f32 (half the memory for a whole model's weights), any other in f64: exact either way.
  const numbers = groups.every((g) => g instanceof Float32Array) ? new Float32Array(total) : new Float64Array(total);
  let count = 0;
  for (const g of groups) for (let i = 0; i < g.length; i++) if (!Number.isNaN(g[i])) numbers[count++] = g[i];
  const keepNumbers = Math.min(keep, count);
  let nanLeft = keep - keepNumbers;
  // The threshold is the keepNumbers-th best number, selected rather than sorted for; all better
  // ones are kept, then ties in order.
  const threshold = keepNumbers > 0 ? kthSmallest(numbers, count, count - keepNumbers) : Infinity;
  let above = 0;
  for (let i = 0; i < count; i++) if (numbers[i] > threshold) above++;
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
