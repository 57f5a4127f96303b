// SparseGPT (Frantar & Alistarh 2023, "SparseGPT: Massive Language Models Can Be Accurately Pruned
// in One-Shot"): Optimal Brain Surgeon row updates from the layer's calibration Hessian
// H = 2XXᵀ + λI (λ = 1% of H's mean diagonal). Columns are visited left to right; each pruned
// weight's error is spread over the not-yet-visited weights of its row through the Cholesky factor
// of H⁻¹, in lazy blocks of columns. The mask is chosen per block of columns by w²/[H⁻¹]ᵢᵢ (or per
// N:M group). Returns new weights, not only a mask. Follows the authors' reference code.
import { spdInverse, upperCholesky } from './linalg';
import { topKMask } from './select';

export interface SparseGptOptions {
  /** Fraction of each column block to prune (ignored when nm is given). */
  sparsity: number;
  nm?: { n: number; m: number };
  blockSize?: number;
  /** λ as a fraction of the Hessian's mean diagonal. */
  dampening?: number;
}

export interface SparseGptResult {
  /** Updated weights as [out, in] rows; pruned entries are exactly 0. */
  weights: Float32Array;
  mask: Uint8Array;
}

/**
 * rows: W as [out, in]; gram: Σ over calibration tokens of x·xᵀ, [in, in] (H = 2·gram).
 */
export function sparseGpt(
  rows: Float32Array,
  out: number,
  inF: number,
  gram: ArrayLike<number>,
  opts: SparseGptOptions,
): SparseGptResult {
  const n = inF;
  if (gram.length !== n * n || rows.length !== out * n) throw new Error(`sparsegpt: shapes do not fit ${out}×${n}`);
  const w = Float64Array.from(rows);
  const h = Float64Array.from(gram, (v) => 2 * v);
  // Inputs that never fire carry no information: zero their weights, keep H invertible.
  for (let i = 0; i < n; i++) {
    if (h[i * n + i] === 0) {
      h[i * n + i] = 1;
      for (let r = 0; r < out; r++) w[r * n + i] = 0;
    }
  }
  let meanDiag = 0;
  for (let i = 0; i < n; i++) meanDiag += h[i * n + i] / n;
  const damp = (opts.dampening ?? 0.01) * meanDiag;
  for (let i = 0; i < n; i++) h[i * n + i] += damp;
  const u = upperCholesky(spdInverse(h, n), n); // H⁻¹ = UᵀU

  const mask = new Uint8Array(out * n).fill(1);
  const block = opts.blockSize ?? 128;
  const err = new Float64Array(out * block);
  for (let b0 = 0; b0 < n; b0 += block) {
    const b1 = Math.min(n, b0 + block);
    const count = b1 - b0;
    if (!opts.nm) selectBlock(w, u, mask, out, n, b0, b1, opts.sparsity);
    for (let i = b0; i < b1; i++) {
      const d = u[i * n + i];
      if (opts.nm && (i - b0) % opts.nm.m === 0)
        selectGroup(w, u, mask, out, n, i, Math.min(i + opts.nm.m, b1), opts.nm.n);
      for (let r = 0; r < out; r++) {
        const wi = w[r * n + i];
        const q = mask[r * n + i] ? wi : 0;
        const e = (wi - q) / d;
        err[r * block + (i - b0)] = e;
        w[r * n + i] = q;
        if (e !== 0) for (let j = i + 1; j < b1; j++) w[r * n + j] -= e * u[i * n + j];
      }
    }
    // Lazy update of the columns after the block with the block's accumulated errors.
    for (let r = 0; r < out; r++) {
      for (let i = b0; i < b1; i++) {
        const e = err[r * block + (i - b0)];
        if (e !== 0) for (let j = b1; j < n; j++) w[r * n + j] -= e * u[i * n + j];
      }
    }
    err.fill(0, 0, out * count);
  }
  return { weights: Float32Array.from(w), mask };
}

/** Prunes the lowest w²/Uᵢᵢ² entries of columns [b0, b1) over all rows, exactly. */
function selectBlock(
  w: Float64Array,
  u: Float64Array,
  mask: Uint8Array,
  out: number,
  n: number,
  b0: number,
  b1: number,
  sparsity: number,
) {
  const width = b1 - b0;
  const scores = new Float32Array(out * width);
  for (let r = 0; r < out; r++) {
    for (let i = b0; i < b1; i++) scores[r * width + (i - b0)] = w[r * n + i] ** 2 / u[i * n + i] ** 2;
  }
  const keep = topKMask(scores, Math.round((1 - sparsity) * scores.length));
  for (let r = 0; r < out; r++) for (let i = b0; i < b1; i++) mask[r * n + i] = keep[r * width + (i - b0)];
}

/** N:M: in each row, keeps the `keepN` best of columns [g0, g1). */
function selectGroup(
  w: Float64Array,
  u: Float64Array,
  mask: Uint8Array,
  out: number,
  n: number,
  g0: number,
  g1: number,
  keepN: number,
) {
  const width = g1 - g0;
  const scores = new Float32Array(width);
  for (let r = 0; r < out; r++) {
    for (let i = g0; i < g1; i++) scores[i - g0] = w[r * n + i] ** 2 / u[i * n + i] ** 2;
    const keep = topKMask(scores, Math.min(keepN, width));
    for (let i = g0; i < g1; i++) mask[r * n + i] = keep[i - g0];
  }
}
