// First-order Taylor scores of single weights: how much the loss moves when a weight is set to zero,
// to first order, w·∂L/∂w. Two readings of it, under their own papers:
// - accumulated (Molchanov et al. 2019, "Importance Estimation for Neural Network Pruning", CVPR,
//   Eq. 3): (w·g)² for each minibatch's gradient g, summed over the minibatches — squaring before
//   summing keeps weights whose gradient changes sign between examples;
// - mean gradient (Ma et al. 2023, "LLM-Pruner", NeurIPS, element-wise first order): |w·ḡ| with ḡ
//   the gradient of the mean loss; near a trained minimum ḡ is small and noisy.

/** Σ_x (w·g_x)² from the weights and Σ_x g_x² (calibration.ts collectGradients 'squaredSum'). */
export function taylorScores(weights: Float32Array, squaredGradSum: Float32Array): Float32Array {
  if (weights.length !== squaredGradSum.length) {
    throw new Error(`taylor: ${weights.length} weights but ${squaredGradSum.length} gradients`);
  }
  return weights.map((w, i) => w * w * squaredGradSum[i]);
}

/** |w·ḡ| from the weights and the mean gradient (calibration.ts collectGradients 'mean'). */
export function meanGradientScores(weights: Float32Array, meanGrad: Float32Array): Float32Array {
  if (weights.length !== meanGrad.length) {
    throw new Error(`taylor-mean: ${weights.length} weights but ${meanGrad.length} gradients`);
  }
  return weights.map((w, i) => Math.abs(w * meanGrad[i]));
}
