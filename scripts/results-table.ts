// The README's results tables, measured on each default model's shipped held-out set, both models
// side by side: every method of the catalogue at 50% and at 2:4; the allocations and scopes at 50%
// (with the per-block sparsity each reached, counted from its masks); Wanda and SparseGPT calibrated
// block by block against one-shot; structured pruning (heads, FFN neurons, blocks, FinerCut
// sublayers, tokens by each score). Prints Markdown and writes every report as JSON to
// bench/results/results-<date>.json.
//   npm run results                           every table
//   npm run results -- --part allocation      one table (methods | allocation | calibration | structured)
import { mkdirSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ModelSession } from '../src/engine/session';
import {
  Pruner,
  type PruneRecipe,
  type PruneReport,
  type StructuredPruneRecipe,
  type StructuredReport,
} from '../src/engine/eval/pruner';
import { METHODS, methodEntry, scoresFor } from '../src/engine/pruning/catalogue';
import type { Metrics } from '../src/engine/eval/metrics';
import { readModelDir } from '../src/cli/model-dir';
import { useWasm } from './lib/train';

const MODELS = ['vit-fashion', 'gpt-bytes'] as const;
type ModelId = (typeof MODELS)[number];
type Report = PruneReport | StructuredReport;

function metricText(m: Metrics): string {
  return m.kind === 'classifier' ? `${(100 * m.accuracy).toFixed(2)}%` : m.bitsPerByte.toFixed(3);
}

const pct = (x: number, digits = 1) => `${(100 * x).toFixed(digits)}%`;
const blocks = (r: Report) => r.blockSparsity.map((s) => pct(s, 0)).join(' ');

/** One row per configuration, one column per model: `cell` formats a report. */
interface Row {
  label: string;
  recipe: (id: ModelId) => PruneRecipe | StructuredPruneRecipe | null;
  cell: (r: Report) => string;
}

const measured = (r: Report) => metricText(r.metric);
const withBlocks = (r: Report) => `${metricText(r.metric)} (${blocks(r)})`;
const withTime = (r: Report) =>
  `${metricText(r.metric)}, ${((r.timeMs.calibration + r.timeMs.prune) / 1000).toFixed(1)} s`;

const TABLES: Record<string, { title: string; rows: Row[] }> = {
  methods: {
    title:
      'method | vit-fashion 50% | vit-fashion 2:4 | gpt-bytes 50% | gpt-bytes 2:4 (metric, calibration + pruning time)',
    rows: METHODS.flatMap((m): Row[] => [
      { label: `${m.label} 50%`, recipe: () => ({ method: m.id, sparsity: 0.5 }), cell: withTime },
      { label: `${m.label} 2:4`, recipe: () => ({ method: m.id, sparsity: 0.5, nm: { n: 2, m: 4 } }), cell: withTime },
    ]),
  },
  allocation: {
    title: 'allocation or scope at 50% | metric (per-block sparsity reached, block 1 first)',
    rows: (['magnitude', 'wanda'] as const).flatMap((method): Row[] => [
      { label: `${methodEntry(method).label}, uniform`, recipe: () => ({ method, sparsity: 0.5 }), cell: withBlocks },
      {
        label: `${methodEntry(method).label}, global scope`,
        recipe: () => ({ method, sparsity: 0.5, scope: 'global' }),
        cell: withBlocks,
      },
      {
        label: `${methodEntry(method).label}, OWL (M 5, λ 0.08)`,
        recipe: () => ({ method, sparsity: 0.5, allocation: 'owl', owl: { m: 5, lambda: 0.08 } }),
        cell: (r) => `${withBlocks(r)}; outliers ${(r.outlierRatios ?? []).map((o) => `${o.toFixed(2)}%`).join(' ')}`,
      },
      {
        label: `${methodEntry(method).label}, sensitivity`,
        recipe: () => ({ method, sparsity: 0.5, allocation: 'sensitivity' }),
        cell: withBlocks,
      },
    ]),
  },
  calibration: {
    title: 'calibration mode | metric',
    rows: (['wanda', 'sparsegpt'] as const).flatMap((method): Row[] =>
      (['sequential', 'one-shot'] as const).flatMap((calibrationMode): Row[] => [
        {
          label: `${methodEntry(method).label} 50%, ${calibrationMode}`,
          recipe: () => ({ method, sparsity: 0.5, calibrationMode }),
          cell: measured,
        },
        {
          label: `${methodEntry(method).label} 2:4, ${calibrationMode}`,
          recipe: () => ({ method, sparsity: 0.5, nm: { n: 2, m: 4 }, calibrationMode }),
          cell: measured,
        },
      ]),
    ),
  },
  structured: {
    title: 'structure | metric, FLOPs (share of dense) — what went',
    rows: [
      ...structuredRows('heads', [0.25, 0.5], ['norm', 'taylor', 'entropy']),
      ...structuredRows('neurons', [0.5], ['activation', 'taylor']),
      ...structuredRows('blocks', [0.25, 0.5], ['angular-window', 'influence']),
      ...structuredRows('sublayers', [0.25], ['finercut']),
      ...structuredRows('tokens', [0.3, 0.5], ['cls', 'last-query', 'column-sum']),
    ],
  },
};

function structuredRows(granularity: StructuredPruneRecipe['granularity'], amounts: number[], scores: string[]): Row[] {
  return amounts.flatMap((amount) =>
    scores.map(
      (score): Row => ({
        label: `${granularity} ${pct(amount, 0)}, ${score}`,
        recipe: (id) =>
          scoresFor(granularity, id === 'vit-fashion' ? 'image-classifier' : 'causal-lm').some((s) => s.id === score)
            ? ({ granularity, amount, score } as StructuredPruneRecipe)
            : null,
        cell: (r) => `${metricText(r.metric)}, ${pct(r.flops / r.denseFlops)} — ${(r as StructuredReport).structure}`,
      }),
    ),
  );
}

async function main() {
  const { values } = parseArgs({ options: { part: { type: 'string', default: 'all' } } });
  const parts = values.part === 'all' ? Object.keys(TABLES) : [values.part!];
  await useWasm();
  const json: Record<string, unknown> = {};
  const cells = new Map<string, string>();
  for (const id of MODELS) {
    const session = ModelSession.open(readModelDir(`public/models/${id}`).files);
    const pruner = new Pruner(session);
    const dense = await session.evaluate();
    json[id] = { dense, reports: [] as Report[] };
    console.log(`${id} — dense: ${metricText(dense)} on its shipped eval set`);
    for (const part of parts) {
      for (const row of TABLES[part].rows) {
        const recipe = row.recipe(id);
        if (!recipe) continue;
        const report = 'granularity' in recipe ? await pruner.measureStructured(recipe) : await pruner.measure(recipe);
        (json[id] as { reports: Report[] }).reports.push(report);
        cells.set(`${part}|${row.label}|${id}`, row.cell(report));
        process.stderr.write(`${id}: ${row.label} → ${row.cell(report)}\n`);
      }
    }
    session.dispose();
  }
  for (const part of parts) {
    console.log(
      `\n**${TABLES[part].title}**\n\n| configuration | ${MODELS.join(' | ')} |\n|---|${MODELS.map(() => '---').join('|')}|`,
    );
    for (const row of TABLES[part].rows) {
      console.log(
        `| ${row.label} | ${MODELS.map((id) => cells.get(`${part}|${row.label}|${id}`) ?? '—').join(' | ')} |`,
      );
    }
  }
  const file = `bench/results/results-${new Date().toISOString().slice(0, 10)}.json`;
  mkdirSync('bench/results', { recursive: true });
  writeFileSync(file, JSON.stringify(json));
  console.log(`\nwrote ${file}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
