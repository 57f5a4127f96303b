// The README's results tables, measured on each default model's shipped held-out set:
// every unstructured method at 50% and at 2:4, and structured pruning (heads, FFN neurons, blocks,
// FinerCut sublayers, tokens) at a few ratios. Prints markdown, then all reports as JSON.
//   npm run results                                  both models, both tables
//   npm run results -- vit-fashion --part structured one model, one table
import { parseArgs } from 'node:util';
import { ModelSession } from '../src/engine/session';
import { Pruner, type PruneReport, type StructuredPruneRecipe } from '../src/engine/eval/pruner';
import { METHODS as CATALOGUE_METHODS, ids, type MethodId } from '../src/engine/pruning/catalogue';
import type { Metrics } from '../src/engine/eval/metrics';
import { readModelDir } from '../src/cli/model-dir';
import { useWasm } from './lib/train';

const METHODS: MethodId[] = ids(CATALOGUE_METHODS);

const STRUCTURED: StructuredPruneRecipe[] = [
  { granularity: 'heads', amount: 0.25, score: 'norm' },
  { granularity: 'heads', amount: 0.5, score: 'norm' },
  { granularity: 'heads', amount: 0.5, score: 'taylor' },
  { granularity: 'neurons', amount: 0.5, score: 'activation' },
  { granularity: 'neurons', amount: 0.5, score: 'taylor' },
  { granularity: 'blocks', amount: 0.25, score: 'angular-window' },
  { granularity: 'blocks', amount: 0.25, score: 'influence' },
  { granularity: 'blocks', amount: 0.5, score: 'angular-window' },
  { granularity: 'sublayers', amount: 0.25 },
  { granularity: 'tokens', amount: 0.3 },
  { granularity: 'tokens', amount: 0.5 },
];

function metricText(m: Metrics): string {
  return m.kind === 'classifier'
    ? `${(100 * m.accuracy).toFixed(2)}%`
    : `${m.bitsPerByte.toFixed(3)} (ppl ${m.perplexity.toFixed(2)})`;
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

async function unstructured(pruner: Pruner, id: string): Promise<PruneReport[]> {
  console.log(`\n| ${id}: method | 50% unstructured | 2:4 | prune time, 50% / 2:4 |`);
  console.log(`|---|---|---|---|`);
  const all: PruneReport[] = [];
  for (const method of METHODS) {
    const half = await pruner.measure({ method, sparsity: 0.5 });
    const nm = await pruner.measure({ method, sparsity: 0.5, nm: { n: 2, m: 4 } });
    all.push(half, nm);
    const t = (r: PruneReport) => `${(r.timeMs.calibration + r.timeMs.prune).toFixed(0)} ms`;
    console.log(`| ${method} | ${metricText(half.metric)} | ${metricText(nm.metric)} | ${t(half)} / ${t(nm)} |`);
    process.stderr.write(`${id} ${method} done\n`);
  }
  return all;
}

async function structured(pruner: Pruner, id: string) {
  console.log(`\n| ${id}: structure | removed | score | metric | FLOPs | params | what went |`);
  console.log(`|---|---|---|---|---|---|---|`);
  const all = [];
  for (const r of STRUCTURED) {
    const rep = await pruner.measureStructured(r);
    all.push(rep);
    const removed = r.granularity === 'tokens' ? `${pct(r.amount)} of tokens per block from block 1` : pct(r.amount);
    console.log(
      `| ${r.granularity} | ${removed} | ${r.score ?? (r.granularity === 'sublayers' ? 'FinerCut' : 'attention received')} | ${metricText(rep.metric)} | ${pct(rep.flops / rep.denseFlops)} | ${pct(rep.nonzeroParams / rep.params)} | ${rep.structure} |`,
    );
    process.stderr.write(`${id} ${r.granularity} ${r.amount} done\n`);
  }
  return all;
}

async function main() {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { part: { type: 'string', default: 'all' } },
  });
  await useWasm();
  const ids = positionals.length ? positionals : ['vit-fashion', 'gpt-bytes'];
  const json: Record<string, unknown> = {};
  for (const id of ids) {
    const session = ModelSession.open(readModelDir(`public/models/${id}`).files);
    const pruner = new Pruner(session);
    const dense = await session.evaluate();
    console.log(`\n### ${id} — dense: ${metricText(dense)} on its shipped eval set`);
    json[id] = {
      dense,
      unstructured: values.part !== 'structured' ? await unstructured(pruner, id) : undefined,
      structured: values.part !== 'unstructured' ? await structured(pruner, id) : undefined,
    };
    session.dispose();
  }
  console.log(`\n${JSON.stringify(json)}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
