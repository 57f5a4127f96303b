// SparseGPT (Frantar & Alistarh 2023, "SparseGPT: Massive Language Models Can Be Accurately Pruned
// in One-Shot"): Optimal Brain Surgeon row updates from the layer's calibration Hessian
// H = 2XXᵀ + λI (λ = 1% of H's mean diagonal). Columns are visited left to right; each pruned
// weight's error is spread over the not-yet-visited weights of its row through the Cholesky factor
// of H⁻¹, in lazy blocks of columns. The mask is chosen per block of columns by w²/[H⁻¹]ᵢᵢ (or per
// N:M group). Returns new weights, not only a mask. Follows the authors' reference code
// (IST-DASLab/sparsegpt `fasterprune`).
//
// The same sweep is GPTQ (Frantar, Ashkboos, Hoefler & Alistarh, "GPTQ: Accurate Post-Training
// Quantization for Generative Pre-trained Transformers", ICLR 2023, arXiv:2210.17323; reference
// IST-DASLab/gptq `fasterquant`) when each visited weight is put on a grid instead of (or besides)
// being pruned: SparseGPT's joint mode quantizes the kept weights as they are visited, GPTQ alone
// prunes nothing, and the "two-step baseline" runs GPTQ under a mask chosen beforehand (Wanda,
// magnitude). One sweep serves all of them, so the three agree wherever their settings coincide.
import type { QuantizedLinear, QuantSettings } from '../quant/types';
import { checkSettings, dequant, findParams, groupCount, maxCode, quantCode } from '../quant/grid';
import { inverseUpperCholesky } from './linalg';
import { topKMask } from './select';

export interface SparseGptOptions {
  /** Fraction of each column block to prune (ignored when nm or mask is given). */
  sparsity: number;
  nm?: { n: number; m: number };
  /**
   * A mask chosen beforehand, [out, in] (1: keep): no selection; masked entries become 0 as they are
   * visited and their error is spread like a pruned weight's. Not together with nm.
   */
  mask?: Uint8Array;
  /** Quantize the kept weights as they are visited (SparseGPT's joint mode, GPTQ's updates). */
  quant?: QuantSettings;
  blockSize?: number;
  /** λ as a fraction of the Hessian's mean diagonal. */
  dampening?: number;
}

export interface SparseGptResult {
  /** Updated weights as [out, in] rows; pruned entries are exactly 0 (with quant: `quantized.weights`). */
  weights: Float32Array;
  mask: Uint8Array;
  /** Codes and grid when `quant` was given, else null. */
  quantized: QuantizedLinear | null;
}

/** What the sweep prunes: nothing, a fraction per block, N of every M, or a given mask. */
export type SweepPruning =
  | { kind: 'none' }
  | { kind: 'sparsity'; sparsity: number }
  | { kind: 'nm'; n: number; m: number }
  | { kind: 'mask'; mask: Uint8Array };

export interface SweepOptions {
  pruning: SweepPruning;
  quant?: QuantSettings;
  blockSize?: number;
  dampening?: number;
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
  if (opts.mask && opts.nm) throw new Error('sparsegpt: give either a fixed mask or an N:M pattern, not both');
  const pruning: SweepPruning = opts.mask
    ? { kind: 'mask', mask: opts.mask }
    : opts.nm
      ? { kind: 'nm', n: opts.nm.n, m: opts.nm.m }
      : { kind: 'sparsity', sparsity: opts.sparsity };
  return obsSweep(rows, out, inF, gram, {
    pruning,
    quant: opts.quant,
    blockSize: opts.blockSize,
    dampening: opts.dampening,
  });
}

/**
 * The column sweep behind SparseGPT and GPTQ. Columns are visited in order (GPTQ's act-order: by
 * decreasing diagonal of H); at each, every row's weight becomes q — 0 where pruned, its grid value
 * when quantizing, else itself — and the error (w − q)/[U]ᵢᵢ is spread over the row's later
 * columns through row i of U, the upper Cholesky factor of H⁻¹ (H⁻¹ = UᵀU).
 *
 * The updates of a block of columns reach the columns after it lazily, at the block's end; a
 * block is cut short where a quantization group starts whose columns run past the block, so that
 * every group's params are found from its columns' fully updated weights when the sweep reaches
 * its first column (as in the paper's algorithm; the reference reads the lazily updated copy, so
 * with groups narrower than a block its later groups miss the current block's updates). Results
 * therefore do not depend on the block size, except through SparseGPT's per-block mask selection.
 *
 * Grid params with pruning: a group's entries whose mask is already decided count only if kept
 * (the pruned ones will be 0, and 0 is always on the grid); entries not yet decided (columns past
 * the current selection block or N:M group) count with their current values, since which of them
 * survive is not known yet. Per channel (groupSize 0) the one group starts at column 0, after the
 * dead-input fix: the reference finds those params before zeroing dead inputs, whose weights
 * would only widen the grid.
 *
 * With act-order and a sparsity, SparseGPT's selection blocks are blocks of the visit order, so the
 * first blocks hold the inputs with the largest activations and still each prune the same
 * fraction; on our test layers that costs more than act-order gains (the reference SparseGPT has
 * no act-order). N:M groups run along the original columns, so act-order with N:M is refused.
 */
export function obsSweep(
  rows: Float32Array,
  out: number,
  inF: number,
  gram: ArrayLike<number>,
  opts: SweepOptions,
): SparseGptResult {
  const n = inF;
  if (gram.length !== n * n || rows.length !== out * n) throw new Error(`sparsegpt: shapes do not fit ${out}×${n}`);
  const { pruning, quant } = opts;
  const block = opts.blockSize ?? 128;
  if (!Number.isInteger(block) || block < 1)
    throw new Error(`sparsegpt: blockSize must be a positive integer, got ${block}`);
  if (pruning.kind === 'sparsity' && !(pruning.sparsity >= 0 && pruning.sparsity <= 1))
    throw new Error(`sparsegpt: sparsity must be in [0, 1], got ${pruning.sparsity}`);
  if (
    pruning.kind === 'nm' &&
    !(Number.isInteger(pruning.n) && Number.isInteger(pruning.m) && pruning.n >= 0 && pruning.m >= 1)
  )
    throw new Error(`sparsegpt: N:M must be integers with N ≥ 0 and M ≥ 1, got ${pruning.n}:${pruning.m}`);
  if (pruning.kind === 'mask' && pruning.mask.length !== out * n)
    throw new Error(`sparsegpt: mask of ${pruning.mask.length} for ${out}×${n}`);
  if (quant) {
    checkSettings(quant);
    for (let k = 0; k < rows.length; k++)
      if (!Number.isFinite(rows[k])) throw new Error(`sparsegpt: weight ${k} is not finite (${rows[k]})`);
  }
  const actOrder = quant?.actOrder ?? false;
  if (actOrder && pruning.kind === 'nm')
    throw new Error('sparsegpt: act-order cannot be combined with N:M — N:M groups run along the original columns');

  let w: Float64Array = Float64Array.from(rows);
  let h: Float64Array = new Float64Array(n * n); // 2·XXᵀ (a loop: TypedArray.from with a map was a third of the sweep)
  for (let k = 0; k < h.length; k++) h[k] = 2 * gram[k];
  // Inputs that never fire carry no information: zero their weights, keep H invertible.
  for (let i = 0; i < n; i++) {
    if (h[i * n + i] === 0) {
      h[i * n + i] = 1;
      for (let r = 0; r < out; r++) w[r * n + i] = 0;
    }
  }
  // Act-order: as the reference, by H's diagonal after the dead-input fix and before damping
  // (damping adds the same λ to every entry, so it would not change the order anyway).
  const perm = actOrder ? orderByDiagonal(h, n) : null;
  if (perm) {
    w = permuteColumns(w, out, n, perm);
    h = permuteSymmetric(h, n, perm);
  }
  let meanDiag = 0;
  for (let i = 0; i < n; i++) meanDiag += h[i * n + i] / n;
  const damp = (opts.dampening ?? 0.01) * meanDiag;
  for (let i = 0; i < n; i++) h[i * n + i] += damp;
  const u = inverseUpperCholesky(h, n); // H⁻¹ = UᵀU

  // The mask in visit order; columns before `decided` have their final mask.
  const mask = new Uint8Array(out * n);
  let decided = n;
  if (pruning.kind === 'mask') {
    const given = pruning.mask;
    for (let r = 0; r < out; r++)
      for (let c = 0; c < n; c++) mask[r * n + c] = given[r * n + (perm ? perm[c] : c)] ? 1 : 0;
  } else {
    mask.fill(1);
    if (pruning.kind !== 'none') decided = 0;
  }

  const maxq = quant ? maxCode(quant.bits) : 0;
  const symmetric = quant?.symmetric ?? false;
  const groupSize = quant && quant.groupSize > 0 ? quant.groupSize : n;
  const groups = quant ? groupCount(n, quant.groupSize) : 0;
  const scales = new Float32Array(out * groups);
  const zeros = new Float32Array(out * groups);
  const codes = quant ? new Uint8Array(out * n) : null;

  const err = new Float64Array(out * block);
  // The current lazy block: columns [s0, s1) get each visited column's update at once, the columns
  // from s1 on get the pending errors of [s0, i) at the block's end.
  let s0 = 0;
  let s1 = 0;
  for (let i = 0; i < n; i++) {
    const b0 = i - (i % block);
    const b1 = Math.min(n, b0 + block);
    const groupStart = quant !== undefined && i % groupSize === 0;
    if (i === s1 || (groupStart && i > s0 && Math.min(n, i + groupSize) > s1)) {
      applyPending(w, u, err, out, n, block, s0, i, s1);
      s0 = i;
      s1 = b1;
    }
    if (pruning.kind === 'sparsity' && i === b0) {
      selectBlock(w, u, mask, out, n, b0, b1, pruning.sparsity);
      decided = b1;
    }
    if (pruning.kind === 'nm' && (i - b0) % pruning.m === 0) {
      decided = Math.min(i + pruning.m, b1);
      selectGroup(w, u, mask, out, n, i, decided, pruning.n);
    }
    const g = Math.floor(i / groupSize);
    if (groupStart)
      findParams(w, out, n, i, Math.min(n, i + groupSize), maxq, symmetric, scales, zeros, groups, g, mask, decided);

    const d = u[i * n + i];
    const ui = i * n;
    const ei = i - s0;
    for (let r = 0; r < out; r++) {
      const k = r * n + i;
      const wi = w[k];
      let q = 0;
      if (codes) {
        const at = r * groups + g;
        if (mask[k]) {
          const code = quantCode(wi, scales[at], zeros[at], maxq);
          codes[k] = code;
          q = dequant(code, scales[at], zeros[at]);
        } else codes[k] = zeros[at];
      } else if (mask[k]) q = wi;
      const e = (wi - q) / d;
      err[r * block + ei] = e;
      w[k] = q;
      if (e !== 0) axpy(w, r * n + i + 1, u, ui + i + 1, s1 - i - 1, -e);
    }
  }

  const weights = Float32Array.from(perm ? permuteColumns(w, out, n, perm, true) : w);
  const outMask = perm ? unpermuteBytes(mask, out, n, perm) : mask;
  let quantized: QuantizedLinear | null = null;
  if (quant && codes) {
    const groupIndex = new Int32Array(n);
    for (let c = 0; c < n; c++) groupIndex[perm ? perm[c] : c] = Math.floor(c / groupSize);
    quantized = {
      weights,
      codes: perm ? unpermuteBytes(codes, out, n, perm) : codes,
      mask: outMask,
      scales,
      zeros,
      groupIndex,
      groups,
      bits: quant.bits,
      symmetric: quant.symmetric,
    };
  }
  return { weights, mask: outMask, quantized };
}

/** Spreads the pending errors of columns [s0, visited) over the columns from `from` on. */
function applyPending(
  w: Float64Array,
  u: Float64Array,
  err: Float64Array,
  out: number,
  n: number,
  block: number,
  s0: number,
  visited: number,
  from: number,
) {
  if (visited === s0) return;
  for (let r = 0; r < out; r++) {
    for (let i = s0; i < visited; i++) {
      const e = err[r * block + (i - s0)];
      if (e !== 0) axpy(w, r * n + from, u, i * n + from, n - from, -e);
    }
  }
  err.fill(0);
}

/**
 * y[yAt … yAt + len) += a · x[xAt …]: the sweep's one inner loop, kept in a function of its own so
 * the JIT compiles it tight (inline in the sweep it ran ~5× slower).
 */
function axpy(y: Float64Array, yAt: number, x: Float64Array, xAt: number, len: number, a: number): void {
  for (let j = 0; j < len; j++) y[yAt + j] += a * x[xAt + j];
}

/** Column indices by decreasing H diagonal, ties by index (the visit order of act-order). */
function orderByDiagonal(h: Float64Array, n: number): Int32Array {
  const idx = Array.from({ length: n }, (_, i) => i);
  idx.sort((a, b) => h[b * n + b] - h[a * n + a] || a - b);
  return Int32Array.from(idx);
}

/** Columns of [out, n] rows in visit order (column c ← perm[c]), or back (column perm[c] ← c). */
function permuteColumns(w: Float64Array, out: number, n: number, perm: Int32Array, back = false): Float64Array {
  const res = new Float64Array(out * n);
  for (let r = 0; r < out; r++) {
    const base = r * n;
    if (back) for (let c = 0; c < n; c++) res[base + perm[c]] = w[base + c];
    else for (let c = 0; c < n; c++) res[base + c] = w[base + perm[c]];
  }
  return res;
}

function unpermuteBytes(a: Uint8Array, out: number, n: number, perm: Int32Array): Uint8Array {
  const res = new Uint8Array(out * n);
  for (let r = 0; r < out; r++) for (let c = 0; c < n; c++) res[r * n + perm[c]] = a[r * n + c];
  return res;
}

function permuteSymmetric(h: Float64Array, n: number, perm: Int32Array): Float64Array {
  const res = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    const src = perm[i] * n;
    for (let j = 0; j < n; j++) res[i * n + j] = h[src + perm[j]];
  }
  return res;
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
