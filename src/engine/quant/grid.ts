// The uniform integer grid GPTQ puts weights on (Frantar, Ashkboos, Hoefler & Alistarh, "GPTQ:
// Accurate Post-Training Quantization for Generative Pre-trained Transformers", ICLR 2023,
// arXiv:2210.17323), as the authors' reference code builds it (`Quantizer.find_params` and
// `quantize` in IST-DASLab/gptq quant.py, min/max mode): per output row and group of input columns
// a scale and an integer zero point from the range of the values widened to include 0; a value's
// code is round(x / scale) + zero clamped to [0, 2^bits − 1], its dequantized value
// scale · (code − zero). Shared by RTN, GPTQ and SparseGPT's joint pruning + quantization.
//
// The scale is rounded to float32 as soon as it is found: it is stored as float32, so every code
// and value below is computed from exactly the stored scale, and a stored layer reads back as
// scale · (code − zero) bit for bit.
import type { QuantSettings } from './types';

/** The largest code, 2^bits − 1. */
export function maxCode(bits: number): number {
  return 2 ** bits - 1;
}

/** Throws a clear Error for settings the engine cannot quantize with. */
export function checkSettings(settings: QuantSettings): void {
  const { bits, groupSize } = settings;
  if (!Number.isInteger(bits) || bits < 2 || bits > 8)
    throw new Error(`quant: bits must be an integer in 2…8, got ${bits}`);
  if (!Number.isInteger(groupSize) || groupSize < 0)
    throw new Error(`quant: groupSize must be a non-negative integer (0: per channel), got ${groupSize}`);
}

/** Groups of a row of `inF` columns: 1 per channel (groupSize 0, or a group as wide as the row). */
export function groupCount(inF: number, groupSize: number): number {
  return groupSize > 0 ? Math.max(1, Math.ceil(inF / groupSize)) : 1;
}

/** Round half to even, as torch.round does (Math.round sends halves up). */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

const MIN_SCALE = 2 ** -149; // the smallest positive float32

/**
 * Scale and zero point from the smallest and largest value of a group (before widening to 0):
 * xmin = min(lo, 0), xmax = max(hi, 0); symmetric: xmax = max(|xmin|, xmax) and xmin = −xmax
 * where xmin < 0; an all-zero group gets [−1, 1]; scale = (xmax − xmin) / maxq; zero = (maxq + 1) / 2
 * when symmetric, else round(−xmin / scale). The result is written to scales[at] and zeros[at].
 *
 * As in the reference, a symmetric group with no negative value keeps xmin = 0, so its grid spans
 * [−zero·scale, (maxq − zero)·scale] with scale = xmax / maxq: values above about xmax / 2 clip.
 */
export function setParams(
  lo: number,
  hi: number,
  maxq: number,
  symmetric: boolean,
  scales: Float32Array,
  zeros: Float32Array,
  at: number,
): void {
  let xmin = Math.min(lo, 0);
  let xmax = Math.max(hi, 0);
  if (symmetric) {
    xmax = Math.max(Math.abs(xmin), xmax);
    if (xmin < 0) xmin = -xmax;
  }
  if (xmin === 0 && xmax === 0) {
    xmin = -1;
    xmax = 1;
  }
  // A range of a few float32 denormals would round the scale to 0; the smallest float32 keeps the
  // grid defined (its values clip, as a range that small cannot be told from 0 anyway).
  const scale = Math.max(Math.fround((xmax - xmin) / maxq), MIN_SCALE);
  scales[at] = scale;
  zeros[at] = symmetric ? (maxq + 1) / 2 : Math.min(maxq, Math.max(0, roundHalfEven(-xmin / scale)));
}

/**
 * Params of every row of w ([out, n] row-major) over columns [c0, c1), into scales/zeros at
 * r·groups + g. With a mask, an entry of a column before `decidedEnd` whose mask is 0 is left out
 * (it will be 0, not a value to fit); columns from `decidedEnd` on count whatever their mask.
 */
export function findParams(
  w: ArrayLike<number>,
  out: number,
  n: number,
  c0: number,
  c1: number,
  maxq: number,
  symmetric: boolean,
  scales: Float32Array,
  zeros: Float32Array,
  groups: number,
  g: number,
  mask?: Uint8Array,
  decidedEnd = n,
): void {
  const masked = Math.min(c1, decidedEnd);
  for (let r = 0; r < out; r++) {
    const base = r * n;
    let lo = 0;
    let hi = 0;
    for (let c = c0; c < c1; c++) {
      if (mask && c < masked && mask[base + c] === 0) continue;
      const v = w[base + c];
      if (v < lo) lo = v;
      else if (v > hi) hi = v;
    }
    setParams(lo, hi, maxq, symmetric, scales, zeros, r * groups + g);
  }
}

/** The code of x: clamp(round(x / scale) + zero, 0, maxq), rounding halves to even. */
export function quantCode(x: number, scale: number, zero: number, maxq: number): number {
  const c = roundHalfEven(x / scale) + zero;
  return c < 0 ? 0 : Math.min(c, maxq);
}

/** The value a code stands for, scale · (code − zero), as stored (float32). */
export function dequant(code: number, scale: number, zero: number): number {
  return Math.fround(scale * (code - zero));
}
