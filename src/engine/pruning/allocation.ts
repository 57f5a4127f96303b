// Layer-wise sparsity allocation: how a global target is split over the blocks.
// - uniform: every block at the target;
// - outlier-weighted (OWL; Yin et al., ICML 2024): blocks with more outlier Wanda scores (> M ×
//   their block's mean) are pruned less, the sparsities spread over 2λ around the target;
// - sensitivity: prune each block alone at several sparsities, measure the loss, then raise the
//   sparsity of whichever block costs the least loss per removed weight until the target is met.

export function uniformAllocation(blocks: number, target: number): number[] {
  return new Array(blocks).fill(target);
}

/** Share (in %) of a block's scores above m × their mean: OWL's layer outlier ratio. */
export function outlierRatio(scores: Float32Array[], m: number): number {
  let n = 0;
  let sum = 0;
  for (const s of scores) {
    for (const v of s) sum += v;
    n += s.length;
  }
  const limit = (m * sum) / n;
  let count = 0;
  for (const s of scores) for (const v of s) if (v > limit) count++;
  return (100 * count) / n;
}

/**
 * OWL's rule as the authors' code (lib/prune_all.py, prune_wanda_outlier) applies it: outlier
 * ratios rescaled to [0, 2λ], shifted so the mean keep ratio is 1 − target, sparsity = 1 − keep;
 * a block at or below 0 sparsity is pruned at 0.01, as the reference sets it. Equal ratios (the
 * reference divides by zero) give every block the target. A block the rule would prune entirely is
 * refused, naming the target and λ that lead there.
 */
export function owlAllocation(ratios: number[], target: number, lambda: number): number[] {
  const lo = Math.min(...ratios);
  const hi = Math.max(...ratios);
  const scaled = ratios.map((r) => (hi > lo ? ((r - lo) / (hi - lo)) * 2 * lambda : lambda));
  const mean = scaled.reduce((a, v) => a + v, 0) / scaled.length;
  return scaled.map((v, l) => {
    const s = 1 - (v - mean + (1 - target));
    if (s >= 1) {
      throw new Error(
        `OWL at ${target} sparsity with λ = ${lambda} would prune all of block ${l + 1}; lower λ or the sparsity`,
      );
    }
    return s <= 0 ? 0.01 : s;
  });
}

/** Loss of the model with only block l pruned at each sparsity of the grid. */
export interface SensitivityCurve {
  layer: number;
  sparsities: number[];
  losses: number[];
}

function lossAt(c: SensitivityCurve, s: number): number {
  const xs = c.sparsities;
  if (s <= xs[0]) return c.losses[0];
  for (let i = 1; i < xs.length; i++) {
    if (s <= xs[i]) return c.losses[i - 1] + ((s - xs[i - 1]) / (xs[i] - xs[i - 1])) * (c.losses[i] - c.losses[i - 1]);
  }
  return c.losses[xs.length - 1];
}

/**
 * Greedy allocation: in steps of `step`, raise the sparsity of the block whose next step adds the
 * least loss per weight removed, until the weighted mean sparsity reaches the target exactly (the
 * last step is partial). curves[l] must start at sparsity 0.
 */
export function sensitivityAllocation(
  curves: SensitivityCurve[],
  blockParams: number[],
  target: number,
  step = 0.05,
  max = 0.95,
): number[] {
  const total = blockParams.reduce((a, v) => a + v, 0);
  const need = target * total;
  const s = new Array(curves.length).fill(0);
  let removed = 0;
  while (removed < need - 1e-9) {
    let best = -1;
    let bestCost = Infinity;
    for (let l = 0; l < curves.length; l++) {
      if (s[l] + step > max + 1e-9) continue;
      const cost = (lossAt(curves[l], s[l] + step) - lossAt(curves[l], s[l])) / (blockParams[l] * step);
      if (cost < bestCost) {
        bestCost = cost;
        best = l;
      }
    }
    if (best < 0) throw new Error(`sensitivity allocation: cannot reach ${target} with at most ${max} per block`);
    const add = Math.min(step, (need - removed) / blockParams[best]);
    s[best] += add;
    removed += add * blockParams[best];
  }
  return s;
}
