// How the page words a running estimate of the pruned model's metric (the metric over the eval
// examples measured so far, see PartialMetrics), a searched allocation's best split so far, and the
// time a prune took.
import type { Family } from '../engine/pruning/catalogue';
import type { SearchProgress } from '../workers/api';
import { headlineOf, type PartialMetrics, type WorkbenchReport } from '../workers/client';
import { formatCountOf, formatInteger, formatPercent, formatValue, metricDisplay } from './format';

/** "≈ 88.3% ± 2.9%", "estimate on 120 of 1,000 images"; the spread is left out while undefined. */
export function describeEstimate(family: Family, e: PartialMetrics): { value: string; basis: string } {
  const { format } = metricDisplay(family);
  const spread = !Number.isFinite(e.stderr)
    ? ''
    : ` ± ${family === 'image-classifier' ? formatPercent(e.stderr) : formatValue(e.stderr, 2)}`;
  const unit = e.metric.kind === 'classifier' ? 'images' : 'windows of text';
  return {
    value: `≈ ${format(headlineOf(e.metric))}${spread}`,
    basis: `estimate on ${formatInteger(e.seen)} of ${formatInteger(e.total)} ${unit}`,
  };
}

/** 840 → "840 ms", 12_345 → "12.3 s". */
export function formatDuration(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${formatValue(ms / 1000)} s`;
}

/** "calibration 1.2 s · pruning 22 ms · measuring 1.9 s (the first estimate after 31 ms)". */
export function describeTimes(t: WorkbenchReport['timeMs']): string {
  const first = t.firstEstimate === null ? '' : ` (the first estimate after ${formatDuration(t.firstEstimate)})`;
  return `calibration ${formatDuration(t.calibration)} · pruning ${formatDuration(t.prune)} · measuring ${formatDuration(t.evaluate)}${first}`;
}

/** The progress line of a search: "EvoPress search, generation 12 of 50: best split so far KL 0.0123 …". */
export function describeSearch(p: SearchProgress): string {
  return `EvoPress search, generation ${formatInteger(p.generation)} of ${formatInteger(p.generations)}: best split so far at KL ${formatValue(p.fitness, 3)} nats per token from the dense model (${formatCountOf(p.evaluations, 'split')} measured)`;
}
