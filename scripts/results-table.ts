// The README's results table: every unstructured method at 50% and at 2:4 on both default models,
// measured on their shipped held-out sets. Prints markdown and JSON.
//   npm run results
import { ModelSession } from '../src/engine/session';
import { Pruner, type PruneRecipe, type PruneReport } from '../src/engine/eval/pruner';
import type { UnstructuredMethod } from '../src/engine/pruning/unstructured';
import { readModelDir } from '../src/cli/model-dir';
import { useWasm } from './lib/train';

const METHODS: UnstructuredMethod[] = ['magnitude', 'random', 'wanda', 'sparsegpt', 'taylor'];

function metricText(r: { metric: PruneReport['metric'] }): string {
  const m = r.metric;
  return m.kind === 'classifier' ? `${(100 * m.accuracy).toFixed(2)}%` : `${m.bitsPerByte.toFixed(3)} (ppl ${m.perplexity.toFixed(2)})`;
}

async function main() {
  await useWasm();
  const all: Record<string, unknown[]> = {};
  for (const id of ['vit-fashion', 'gpt-bytes']) {
    const session = ModelSession.open(readModelDir(`public/models/${id}`).files);
    const pruner = new Pruner(session);
    const dense = await session.evaluate();
    const metricName = dense.kind === 'classifier' ? 'top-1 accuracy' : 'bits/byte (perplexity)';
    console.log(`\n### ${id} — dense: ${metricText({ metric: dense })} ${metricName}\n`);
    console.log(`| method | 50% unstructured | 2:4 | prune time 50% / 2:4 |`);
    console.log(`|---|---|---|---|`);
    all[id] = [];
    for (const method of METHODS) {
      const recipes: PruneRecipe[] = [
        { method, sparsity: 0.5 },
        { method, sparsity: 0.5, nm: { n: 2, m: 4 } },
      ];
      const reports: PruneReport[] = [];
      for (const r of recipes) {
        reports.push(await pruner.measure(r));
        process.stderr.write(`${id} ${method}${r.nm ? ' 2:4' : ''} done\n`);
      }
      all[id].push(...reports);
      const t = (r: PruneReport) => `${(r.timeMs.calibration + r.timeMs.prune).toFixed(0)} ms`;
      console.log(`| ${method} | ${metricText(reports[0])} | ${metricText(reports[1])} | ${t(reports[0])} / ${t(reports[1])} |`);
    }
    session.dispose();
  }
  console.log('\n' + JSON.stringify(all));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
