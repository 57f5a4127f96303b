// bench:gpu's whole-model figure: the default models' evaluation forward passes, pruned, with every
// product on TF.js's dense matMul against the measured per-layer choice (gpu/sparse-linears.ts),
// on the same device in the same run. The metric must agree (the kernels are exact up to
// summation order).
import { ModelSession } from '../../src/engine/session';
import { Pruner, type PruneRecipe } from '../../src/engine/eval/pruner';
import { readModelDir } from '../../src/cli/model-dir';
import { headlineOf } from '../../src/engine/eval/headline';
import type { BenchRow } from './gpu-rows';

const RECIPES: [string, PruneRecipe][] = [
  ['90% magnitude', { method: 'magnitude', sparsity: 0.9 }],
  ['2:4 magnitude', { method: 'magnitude', sparsity: 0.5, nm: { n: 2, m: 4 } }],
];

export async function forwardRows(models: string[]): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  for (const id of models) {
    const session = ModelSession.open(readModelDir(`public/models/${id}`).files);
    const pruner = new Pruner(session);
    for (const [name, recipe] of RECIPES) {
      const { result } = await pruner.prune(recipe);
      const timed = async (paths?: ['tfjs']) => {
        const t0 = performance.now();
        const out = await pruner.evaluatePruned(result, {}, paths);
        return { ...out, ms: performance.now() - t0 };
      };
      // First passes compile pipelines, and the first measured one times every candidate (what a
      // slider step to an unseen density pays); the timed runs after them reuse both.
      await timed(['tfjs']);
      const measuring = await timed();
      const dense = await timed(['tfjs']);
      const ours = await timed();
      const kernels = ours.kernels ?? [];
      const onOurs = kernels.filter((k) => k.path !== 'tfjs').length;
      rows.push({
        op: `${id} eval set, ${name}`,
        shape: `${kernels.length} layer products`,
        oursMs: ours.ms,
        tfjsMs: dense.ms,
        referenceMs: NaN,
        parity: Math.abs(headlineOf(ours.metric) - headlineOf(dense.metric)) < 1e-3,
        note: `${onOurs} of ${kernels.length} on our kernels; metric ${headlineOf(ours.metric).toFixed(4)} vs ${headlineOf(dense.metric).toFixed(4)}; the run that timed the candidates took ${(measuring.ms / 1000).toFixed(2)} s`,
      });
    }
    session.dispose();
  }
  return rows;
}
