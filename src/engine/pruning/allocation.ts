// Layer-wise sparsity allocation: how a global target is split over the blocks.
// - uniform: every block at the target;
// - outlier-weighted (OWL; Yin et al. 2024, "Outlier Weighed Layerwise Sparsity"): blocks with more
//   outlier Wanda scores (> M × their block's mean) are pruned less, within ±λ of the target;
// - sensitivity: prune each block alone at several sparsities, measure the loss, then raise the
//   sparsity of whichever block costs the least loss per removed weight until the target is met.

export function uniformAllocation(blocks: number, target: number): number[] {
  return new Array(blocks).fill(target);
}

/** Share (in %) of a block's scores above m × their mean: OWL's layer outlier ratio. */
export function outlierRatio(scores: Float32Array[], m = 5): number {
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
 * OWL's rule from the authors' code: outlier ratios rescaled to [0, 2λ], shifted so their mean
 * keep-ratio is 1 − target, and sparsity = 1 − that. Blocks are assumed of equal size, as in OWL.
 */
export function owlAllocation(ratios: number[], target: number, lambda = 0.08): number[] {
  const lo = Math.min(...ratios);
  const hi = Math.max(...ratios);
  const scaled = ratios.map((r) => (hi > lo ? ((r - lo) / (hi - lo)) * 2 * lambda : lambda));
  const mean = scaled.reduce((a, v) => a + v, 0) / scaled.length;
  return scaled.map((v) => clamp(1 - (v - mean + (1 - target)), 0, 0.99));
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

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v));
}
