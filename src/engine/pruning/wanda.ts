// Wanda (Sun et al. 2024, "A Simple and Effective Pruning Approach for Large Language Models"):
// weight W_ij scores |W_ij| · ‖X_j‖₂, where ‖X_j‖₂ is the norm of input feature j over the
// calibration tokens; weights are compared within each output row.
import { byRowBands } from '../backends/wasm-simd';

/** rows: weights as [out, in]; inputSqSum: Σ over calibration tokens of x_j², length in. */
export function wandaScores(
  rows: Float32Array,
  outFeatures: number,
  inFeatures: number,
  inputSqSum: ArrayLike<number>,
): Float32Array {
  if (inputSqSum.length !== inFeatures || rows.length !== outFeatures * inFeatures) {
    throw new Error(
      `wanda: ${rows.length} weights and ${inputSqSum.length} input norms do not fit ${outFeatures}×${inFeatures}`,
    );
  }
  const norm = Float32Array.from(inputSqSum, Math.sqrt);
  return kernelScores(rows, outFeatures, inFeatures, norm) ?? wandaScoresLoops(rows, outFeatures, inFeatures, norm);
}

/**
 * The scores by the engine's WebAssembly kernel (wandaScores, the same f32 products), in bands of
 * rows (byRowBands); null where there is none. Compiled before it runs, where the loop starts interpreted in a
 * one-shot pruning (9 ms of vit-fashion's 0.2 M weights).
 */
function kernelScores(rows: Float32Array, outF: number, inF: number, norm: Float32Array): Float32Array | null {
  return byRowBands(rows, outF, inF, Float32Array, 4 * inF, (kernels, memory, n, normAt, outAt) => {
    new Float32Array(memory.buffer, normAt, inF).set(norm);
    kernels.wandaScores(0, normAt, outAt, n, inF);
  });
}

/** The scores' plain loop: the kernel's twin, and where WebAssembly SIMD is not. */
export function wandaScoresLoops(rows: Float32Array, outF: number, inF: number, norm: Float32Array): Float32Array {
  const out = new Float32Array(rows.length);
  for (let o = 0; o < outF; o++) {
    for (let i = 0; i < inF; i++) out[o * inF + i] = Math.abs(rows[o * inF + i]) * norm[i];
  }
  return out;
}
