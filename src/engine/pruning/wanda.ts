// Wanda (Sun et al. 2024, "A Simple and Effective Pruning Approach for Large Language Models"):
// weight W_ij scores |W_ij| · ‖X_j‖₂, where ‖X_j‖₂ is the norm of input feature j over the
// calibration tokens; weights are compared within each output row.

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
  const out = new Float32Array(rows.length);
  for (let o = 0; o < outFeatures; o++) {
    for (let i = 0; i < inFeatures; i++) out[o * inFeatures + i] = Math.abs(rows[o * inFeatures + i]) * norm[i];
  }
  return out;
}
