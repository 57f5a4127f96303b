// The learning rate of a training run at each step: a linear warm-up, then a cosine decay
// (Loshchilov & Hutter 2016, "SGDR: Stochastic Gradient Descent with Warm Restarts",
// arXiv:1608.03983, one cycle without restarts) from the peak to a floor. Recovery after pruning
// and the scripts that train the shipped models share it.

export interface Schedule {
  /** The learning rate the warm-up reaches. */
  peak: number;
  /** Steps in the whole run. */
  steps: number;
  /** Steps of the linear warm-up (0: start at the peak). */
  warmup: number;
  /** Where the cosine ends, as a fraction of the peak (SGDR's η_min / η_max; default 0). */
  floor?: number;
}

/**
 * The learning rate of update `step` (0-based): peak · (step + 1) / warmup during the warm-up, so the
 * first update already moves; then η_min + ½(η_max − η_min)(1 + cos(π · progress)), progress going
 * from 0 at the end of the warm-up towards 1 at the last step.
 */
export function learningRate(step: number, s: Schedule): number {
  if (step < s.warmup) return (s.peak * (step + 1)) / s.warmup;
  const floor = s.floor ?? 0;
  const progress = (step - s.warmup) / Math.max(1, s.steps - s.warmup);
  return s.peak * (floor + (1 - floor) * 0.5 * (1 + Math.cos(Math.PI * progress)));
}
