// Time to prune each default model at 50% by each method, on every TensorFlow.js backend this
// machine has, side by side in one run: "cold" includes calibration statistics, "warm" is a second
// call with them cached — what a slider move costs. Then a 20-point Wanda sweep (pruning and
// measuring every point on the shipped eval set). Prints tables and JSON.
//   npm run bench:pruning        BACKENDS=webgpu MODELS=vit-fashion SWEEP=0 npm run bench:pruning
import { ModelSession } from '../src/engine/session';
import { Pruner, type PruneRecipe } from '../src/engine/eval/pruner';
import { METHODS as CATALOGUE_METHODS, ids, type MethodId } from '../src/engine/pruning/catalogue';
import { readModelDir } from '../src/cli/model-dir';
import { useBackend, type BackendName } from './lib/backends';

const MODELS = (process.env.MODELS ?? 'vit-fashion,gpt-bytes').split(',');
// SWEEP=0 skips the sweeps (each point evaluates the whole eval set: minutes on SwiftShader).
const SWEEP = process.env.SWEEP !== '0';
const METHODS: MethodId[] = ids(CATALOGUE_METHODS);
const BACKENDS = (process.env.BACKENDS ?? 'cpu,wasm,webgpu').split(',') as BackendName[];

async function main() {
  const rows: { model: string; device: string; method: string; coldMs: number; warmMs: number }[] = [];
  const sweeps: { model: string; device: string; points: number; totalMs: number }[] = [];
  for (const backend of BACKENDS) {
    const device = await useBackend(backend);
    if (!device) {
      console.error(`${backend}: not available here, skipped`);
      continue;
    }
    for (const id of MODELS) {
      const session = ModelSession.open(readModelDir(`public/models/${id}`).files);
      for (const method of METHODS) {
        const pruner = new Pruner(session);
        const recipe: PruneRecipe = { method, sparsity: 0.5 };
        let t0 = performance.now();
        await pruner.prune(recipe);
        const coldMs = performance.now() - t0;
        t0 = performance.now();
        await pruner.prune({ ...recipe, sparsity: 0.55 });
        const warmMs = performance.now() - t0;
        rows.push({ model: id, device, method, coldMs, warmMs });
        console.error(`${id} ${method} on ${device}: cold ${coldMs.toFixed(0)} ms, warm ${warmMs.toFixed(0)} ms`);
      }
      if (SWEEP) {
        const sparsities = Array.from({ length: 20 }, (_, i) => 0.05 * i);
        const t0 = performance.now();
        let points = 0;
        for await (const _point of new Pruner(session).sweep({ method: 'wanda' }, sparsities)) points++;
        sweeps.push({ model: id, device, points, totalMs: performance.now() - t0 });
        console.error(`${id} 20-point wanda sweep on ${device}: ${(sweeps.at(-1)!.totalMs / 1000).toFixed(1)} s`);
      }
      session.dispose();
    }
  }
  console.log('\n| model | backend | method | cold (with calibration) | warm (slider move) |');
  console.log('|---|---|---|---|---|');
  for (const r of rows)
    console.log(`| ${r.model} | ${r.device} | ${r.method} | ${r.coldMs.toFixed(0)} ms | ${r.warmMs.toFixed(0)} ms |`);
  console.log('\n| model | backend | 20-point Wanda sweep, each point pruned and measured |');
  console.log('|---|---|---|');
  for (const r of sweeps) console.log(`| ${r.model} | ${r.device} | ${(r.totalMs / 1000).toFixed(1)} s |`);
  console.log(`\n${JSON.stringify({ date: new Date().toISOString(), rows, sweeps }, null, 2)}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
