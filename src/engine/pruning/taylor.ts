// First-order Taylor importance (Molchanov et al. 2019, "Importance Estimation for Neural Network
// Pruning"): removing weight w changes the loss by about |w · ∂L/∂w|, the gradient taken over the
// calibration batches.
export function taylorScores(weights: Float32Array, grads: Float32Array): Float32Array {
  if (weights.length !== grads.length)
    throw new Error(`taylor: ${weights.length} weights but ${grads.length} gradients`);
  return weights.map((w, i) => Math.abs(w * grads[i]));
}
