// GPTQ (Frantar, Ashkboos, Hoefler & Alistarh, "GPTQ: Accurate Post-Training Quantization for
// Generative Pre-trained Transformers", ICLR 2023, arXiv:2210.17323; reference IST-DASLab/gptq
// `fasterquant`): columns visited in order (or by decreasing Hessian diagonal with act-order), each
// weight rounded to its group's grid and the rounding error spread over the row's later columns
// through the Cholesky factor of H⁻¹, H = 2·XXᵀ + 1% mean-diagonal damping. The sweep is the one
// SparseGPT prunes with (pruning/sparsegpt.ts), so GPTQ under a mask and SparseGPT's joint pruning
// + quantization share every step.
import { obsSweep } from '../pruning/sparsegpt';
import type { QuantizedLinear, QuantSettings } from './types';

/**
 * GPTQ of W ([out, inF] rows) from its inputs' Gram matrix Σ x·xᵀ ([inF, inF]). With a mask
 * ([out, inF], 1: keep) — the two-step baseline, a Wanda or magnitude mask then GPTQ — masked
 * entries become exactly 0 as they are visited, their error spread like a pruned weight's, and the
 * result keeps exactly that mask.
 */
export function gptq(
  rows: Float32Array,
  out: number,
  inF: number,
  gram: ArrayLike<number>,
  settings: QuantSettings,
  mask?: Uint8Array,
): QuantizedLinear {
  const r = obsSweep(rows, out, inF, gram, {
    pruning: mask ? { kind: 'mask', mask } : { kind: 'none' },
    quant: settings,
  });
  return r.quantized!;
}
