// The per-layer sliders' rules, pure: when free per-block sparsities apply to a configuration,
// what the sliders show while locked, and whether a link's values fit the loaded model.
import type { WorkbenchReport } from '../workers/client';
import { formatPercent } from './format';
import { MAX_SPARSITY, type ShareState } from './share';

/** Why per-layer sparsities do not apply to the configuration, in words; null when they do. */
export function perLayerBlocked(c: ShareState): string | null {
  if (c.granularity === 'nm')
    return '2:4 keeps 2 of every 4 weights in every block: there is no per-block amount to set.';
  if (c.granularity !== 'unstructured')
    return 'Structured pruning removes whole structures by their scores; per-block sliders set unstructured sparsity only.';
  if (c.scope === 'global')
    return 'A global scope ranks every block’s weights together under one threshold; choose the per-layer scope to set each block.';
  return null;
}

/** The configuration's free per-block sparsities when they apply to it; null when locked or not applicable. */
export function freeLayerSparsity(c: ShareState): number[] | null {
  return c.layerSparsity && perLayerBlocked(c) === null ? c.layerSparsity : null;
}

/** The mean of the free per-block values (the blocks of a transformer are of one size, so the target it reaches). */
export const meanSparsity = (values: number[]): number => values.reduce((a, v) => a + v, 0) / values.length;

/**
 * What each block's slider shows: the free values; else, locked, the split the measured report
 * used (an OWL or sensitivity allocation differs per block); else the global sparsity everywhere.
 */
export function shownLayerSparsity(c: ShareState, layers: number, report: WorkbenchReport | null): number[] {
  if (c.layerSparsity && c.layerSparsity.length === layers) return c.layerSparsity;
  if (report && !('structure' in report) && report.blockSparsity.length === layers) return report.blockSparsity;
  return new Array(layers).fill(c.sparsity);
}

/** Unlocking starts from what the sliders show, on the sliders' 1% grid and within their range. */
export const unlockedValues = (shown: number[]): number[] =>
  shown.map((v) => Math.min(MAX_SPARSITY, Math.max(0, Math.round(v * 100) / 100)));

/** The message when free values do not fit the loaded model's blocks (a link made on another model); else null. */
export function layerSparsityMismatch(c: ShareState, layers: number): string | null {
  if (!c.layerSparsity || c.layerSparsity.length === layers) return null;
  const n = c.layerSparsity.length;
  return `The link sets the sparsity of ${n} block${n === 1 ? '' : 's'}, but this model has ${layers}: the blocks follow the global sparsity (${formatPercent(c.sparsity, 0)}) instead.`;
}
