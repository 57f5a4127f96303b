// Readable summaries of reports, for a terminal (JSON is what scripts read).
import type { Metrics } from '../engine/eval/metrics';
import type { PruneRecipe, PruneReport, StructuredPruneRecipe, StructuredReport } from '../engine/eval/pruner';
import { allocationDefaults, allocationEntry, calibrationModeEntry } from '../engine/pruning/catalogue';
import type { ModelSummary } from '../engine/session';
import type { RecoveryReport } from '../engine/eval/recovery';
import { passesText, pastItsPeak } from '../engine/eval/recovery-report';
import { recoveryModeEntry } from '../engine/recovery/modes';
import type { Quantization } from '../engine/pruning/recipe';
import { OPTIONS } from './options';

const pct = (v: number, digits = 1) => `${(100 * v).toFixed(digits)}%`;

export function count(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

export function si(n: number, unit = ''): string {
  const steps: [number, string][] = [
    [1e12, 'T'],
    [1e9, 'G'],
    [1e6, 'M'],
    [1e3, 'k'],
  ];
  for (const [v, p] of steps) if (Math.abs(n) >= v) return `${(n / v).toFixed(2)} ${p}${unit}`;
  return `${n.toFixed(0)} ${unit}`.trim();
}

export function bytes(n: number): string {
  if (n >= 1024 * 1024) return `${(n / 1024 / 1024).toFixed(2)} MiB`;
  if (n >= 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${n} B`;
}

const seconds = (ms: number) => (ms < 1000 ? `${ms.toFixed(0)} ms` : `${(ms / 1000).toFixed(1)} s`);

export function metricLine(m: Metrics): string {
  return m.kind === 'classifier'
    ? `top-1 accuracy ${pct(m.accuracy, 2)} · loss ${m.loss.toFixed(4)} (${count(m.count)} images)`
    : `${m.bitsPerByte.toFixed(4)} bits/byte · perplexity ${m.perplexity.toFixed(3)} · next-token accuracy ${pct(m.nextTokenAccuracy)} · loss ${m.loss.toFixed(4)} (${count(m.tokens)} tokens)`;
}

const isStructured = (r: PruneRecipe | StructuredPruneRecipe): r is StructuredPruneRecipe => 'granularity' in r;

/** The allocation and its parameters as the catalogue names them: "owl allocation (M 5, λ 0.08)". */
function allocationText(r: PruneRecipe): string {
  const a = allocationEntry(r.allocation ?? OPTIONS.allocation.default);
  const given = a.id === 'owl' ? r.owl : a.id === 'evopress' ? r.evopress : {};
  const values: Record<string, number> = { ...allocationDefaults(a.id), ...given };
  const params = a.parameters.map((p) => `${p.label} ${values[p.id]}`);
  if (a.id === 'evopress' && r.evopress?.units) params.push(`over ${r.evopress.units}`);
  return `${a.id} allocation${params.length ? ` (${params.join(', ')})` : ''}`;
}

export function recipeLine(r: PruneRecipe | StructuredPruneRecipe): string {
  if (isStructured(r)) {
    const parts = [
      `${r.granularity}: ${pct(r.amount)} ${r.tokenFrom === undefined ? 'removed' : 'dropped at each block'}`,
    ];
    if (r.score) parts.push(`${r.score} score`);
    if (r.scope) parts.push(`${r.scope} scope`);
    if (r.tokenFrom !== undefined) parts.push(`from block ${r.tokenFrom}`);
    return parts.join(' · ');
  }
  const parts = [`${r.method} at ${pct(r.sparsity)} sparsity`];
  if (r.nm) parts.push(`${r.nm.n}:${r.nm.m}`);
  else parts.push(`${r.scope} scope`, allocationText(r));
  if (r.method === 'random') parts.push(`seed ${r.seed}`);
  if (r.quant) parts.push(quantText(r.quant));
  return parts.join(' · ');
}

/** "4-bit gptq, groups of 128, zero points, act-order". */
export function quantText(q: Quantization): string {
  return [
    `${q.bits}-bit ${q.quantizer}`,
    q.groupSize > 0 ? `groups of ${q.groupSize}` : 'per channel',
    q.symmetric ? 'symmetric' : 'zero points',
    ...(q.actOrder ? ['act-order'] : []),
  ].join(', ');
}

const row = (label: string, value: string) => `${label.padEnd(13)} ${value}`;
const perBlock = (xs: number[]) => xs.map((s) => s.toFixed(3)).join(' ');

/**
 * The per-block rows: the sparsity counted from the masks; under it the allocation's target where
 * that reads differently; OWL's outlier ratios; how the calibration statistics were gathered.
 */
function blockRows(r: PruneReport | StructuredReport): string[] {
  const measured = perBlock(r.blockSparsity);
  const rows = [row('blocks', `${measured}  (counted from the masks)`)];
  const target = r.targetBlockSparsity && perBlock(r.targetBlockSparsity);
  if (target && target !== measured) rows.push(row('  target', `${target}  (asked by the allocation)`));
  if (r.outlierRatios)
    rows.push(row('outliers', `${r.outlierRatios.map((v) => `${v.toFixed(1)}%`).join(' ')}  (OWL's outlier ratios)`));
  if (r.calibrationMode) rows.push(row('calib mode', calibrationModeEntry(r.calibrationMode).label));
  return rows;
}

export function reportText(r: PruneReport | StructuredReport): string {
  const structured = 'structure' in r;
  const lines = [
    row('recipe', recipeLine(r.recipe)),
    ...(structured ? [row('structure', r.structure)] : []),
    row('calibration', r.calibration ?? `none (${structured ? 'token pruning' : 'the method'} needs none)`),
    row('metric', metricLine(r.metric)),
    row(
      'sparsity',
      structured
        ? `${pct(r.sparsity, 2)} of the blocks' linear parameters removed`
        : `${pct(r.sparsity, 2)} of the prunable weights`,
    ),
    row(
      'parameters',
      `${count(r.nonzeroParams)} ${structured ? 'left' : 'nonzero'} of ${count(r.params)} (${pct(r.nonzeroParams / r.params)})`,
    ),
    row('FLOPs', `${si(r.flops)} of ${si(r.denseFlops)} dense per example (${pct(r.flops / r.denseFlops)})`),
    row(
      'size',
      structured
        ? `dense ${bytes(r.bytes.dense)} · with the removed structures cut out ${bytes(r.bytes.sparse)}`
        : `as stored ${bytes(r.bytes.stored)} · dense ${bytes(r.bytes.dense)} · sparse ${bytes(r.bytes.sparse)}${r.bytes.nm24 === null ? '' : ` · 2:4 ${bytes(r.bytes.nm24)}`} (f32)`,
    ),
    ...blockRows(r),
    row(
      'time',
      `calibration ${seconds(r.timeMs.calibration)} · prune ${seconds(r.timeMs.prune)} · evaluate ${seconds(r.timeMs.evaluate)}`,
    ),
  ];
  return `${lines.join('\n')}\n`;
}

/** One line per sweep point. */
export function pointText(r: PruneReport | StructuredReport): string {
  if ('structure' in r) {
    return `${r.recipe.granularity} ${pct(r.recipe.amount).padStart(6)}  ${metricLine(r.metric)}  ·  FLOPs ${pct(r.flops / r.denseFlops)}  ·  parameters ${pct(r.nonzeroParams / r.params)}`;
  }
  return `sparsity ${pct(r.sparsity).padStart(6)}  ${metricLine(r.metric)}  ·  FLOPs ${pct(r.flops / r.denseFlops)}  ·  ${bytes(r.bytes.stored)} as stored`;
}

export function summaryText(dir: string, s: ModelSummary, metric: Metrics | null): string {
  const lines = [
    row('model', `${dir}: ${s.architecture}, ${s.layers} blocks, ${s.heads} heads, hidden ${s.hidden}, FFN ${s.ffn}`),
    row(
      'input',
      s.family === 'causal-lm'
        ? `${s.sequence} tokens of a ${s.vocabSize}-token vocabulary`
        : `${s.sequence} tokens (patches + CLS), ${s.labels!.length} classes`,
    ),
    row('parameters', `${count(s.cost.params)} (${bytes(4 * s.cost.params)} as f32)`),
    row('FLOPs', `${si(s.cost.denseFlops)} per example`),
    row(
      'eval set',
      !s.evalSet
        ? 'none'
        : s.evalSet.kind === 'images'
          ? `${count(s.evalSet.count)} images`
          : `${count(s.evalSet.bytes)} bytes of text`,
    ),
    row('metric', metric ? metricLine(metric) : 'not measured (no eval.safetensors)'),
  ];
  if (s.ignoredTensors.length) lines.push(row('ignored', s.ignoredTensors.join(', ')));
  for (const w of s.warnings ?? []) lines.push(row('warning', w));
  return `${lines.join('\n')}\n`;
}

const percent = (p: number) => `${(100 * p).toFixed(p >= 0.001 ? 2 : 4)}%`;

/** predict on a language model, readable: the input ids, then one row per token, most probable first. */
export function nextTokenTable(ids: number[], top: { id: number; token: string; prob: number }[]): string {
  const shown = ids.length > 24 ? `${ids.slice(0, 8).join(' ')} … ${ids.slice(-8).join(' ')}` : ids.join(' ');
  const idWidth = Math.max(2, ...top.map((t) => String(t.id).length));
  const rows = top.map(
    (t, i) =>
      `${String(i + 1).padStart(4)}  ${percent(t.prob).padStart(9)}  ${String(t.id).padStart(idWidth)}  ${JSON.stringify(t.token)}`,
  );
  return `input ids (${ids.length}): ${shown}\n\nrank       prob  ${'id'.padStart(idWidth)}  token\n${rows.join('\n')}\n`;
}

/** predict on an image classifier, readable: one row per class, most probable first. */
export function classTable(top: { index: number; label: string; prob: number }[]): string {
  const rows = top.map(
    (t, i) =>
      `${String(i + 1).padStart(4)}  ${percent(t.prob).padStart(9)}  ${String(t.index).padStart(5)}  ${t.label}`,
  );
  return `rank       prob  index  label\n${rows.join('\n')}\n`;
}

/** What a recovery did: the metric before and after, the mode, steps and data, the loss at its ends. */
export function recoveryText(r: RecoveryReport): string {
  const c = r.recovery;
  const mode = recoveryModeEntry(c.mode).label;
  const first = r.lossCurve[0]?.value;
  const last = r.lossCurve.at(-1)?.value;
  const peak = pastItsPeak(r);
  const stopped = r.aborted
    ? ` (cancelled after ${r.stepsDone}; the weights of step ${r.step}, the best measured)`
    : '';
  const lines = [
    row(
      'recovery',
      `${mode}, ${r.stepsDone} of ${c.steps} steps${stopped}, lr ${c.learningRate}, batch ${c.batchSize}${c.rank ? `, rank ${c.rank}, alpha ${c.alpha}` : ''} on ${r.data} (${passesText(r.passes)})`,
    ),
    row('before', metricLine(r.before)),
    row('after', metricLine(r.after)),
    ...(first !== undefined && last !== undefined
      ? [row('train loss', `${first.toFixed(4)} → ${last.toFixed(4)}`)]
      : []),
    row('time', seconds(r.timeMs)),
    ...(peak ? [row('note', peak.text)] : []),
  ];
  return `${lines.join('\n')}\n`;
}
