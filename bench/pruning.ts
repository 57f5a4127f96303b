// Time to prune each default model at 50% by each method, on every TensorFlow.js backend this
// machine has, side by side in one run: "cold" includes calibration statistics, "warm" is a second
// call with them cached — what a slider move costs. Prints a table and JSON.
//   npm run bench:pruning        BACKENDS=wasm,webgpu npm run bench:pruning
import { ModelSession } from '../src/engine/session';
import { Pruner, type PruneRecipe } from '../src/engine/eval/pruner';
import type { UnstructuredMethod } from '../src/engine/pruning/unstructured';
import { readModelDir } from '../src/cli/model-dir';
import { useBackend, type BackendName } from './lib/backends';

const MODELS = ['vit-fashion', 'gpt-bytes'];
const METHODS: UnstructuredMethod[] = ['magnitude', 'random', 'wanda', 'sparsegpt', 'taylor'];
const BACKENDS = (process.env.BACKENDS ?? 'cpu,wasm,webgpu').split(',') as BackendName[];

async function main() {
  const rows: { model: string; device: string; method: string; coldMs: number; warmMs: number }[] = [];
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
      session.dispose();
    }
  }
  console.log('\n| model | backend | method | cold (with calibration) | warm (slider move) |');
  console.log('|---|---|---|---|---|');
  for (const r of rows) console.log(`| ${r.model} | ${r.device} | ${r.method} | ${r.coldMs.toFixed(0)} ms | ${r.warmMs.toFixed(0)} ms |`);
  console.log('\n' + JSON.stringify({ date: new Date().toISOString(), rows }, null, 2));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
