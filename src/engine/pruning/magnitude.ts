// Magnitude pruning (Han et al. 2015, "Learning both Weights and Connections for Efficient Neural
// Networks"): a weight's importance is its absolute value.
export function magnitudeScores(weights: Float32Array): Float32Array {
  return weights.map(Math.abs);
}
