// Per-block sparsity, pure: when free per-block sparsities apply to a configuration, what the
// sliders show while locked, whether a link's values fit the loaded model, and what a measured
// report says of each block (reached, asked, OWL's outlier ratio) and of the split (EvoPress's
// search), in words.
import type { SearchProgress } from '../workers/api';
import type { WorkbenchReport } from '../workers/client';
import { familyOf, perBlockRefusal } from './choices';
import { formatCountOf, formatInteger, formatPercent, formatValue } from './format';
import { MAX_SPARSITY, type ShareState } from './share';

/**
 * The configuration's free per-block sparsities when they apply to it (the catalogue refuses them
 * for N:M, structured pruning and a global scope, on any model family); null when locked or not
 * applicable.
 */
export function freeLayerSparsity(c: ShareState): number[] | null {
  return c.layerSparsity && perBlockRefusal(c, familyOf(c)) === null ? c.layerSparsity : null;
}

/** The mean of the free per-block values (the blocks of a transformer are of one size, so the target it reaches). */
export const meanSparsity = (values: number[]): number => values.reduce((a, v) => a + v, 0) / values.length;

/**
 * What each block's slider shows: the free values; else, locked, what the measured report's masks
 * remove from each block (an OWL or sensitivity allocation, a global ranking differ per block);
 * else the global sparsity everywhere.
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

/** What a measured report says of one block. */
export interface BlockFact {
  /** Share of its prunable weights the masks remove. */
  reached: number;
  /** What the allocation (or the sliders) asked, where that differs by more than half a point; else null. */
  target: number | null;
  /** OWL's outlier ratio, in % (its Wanda scores above M × their mean); null without OWL. */
  outliers: number | null;
}

/** Each block's facts from a report measured on a model with `layers` blocks; null without one. */
export function blockFacts(report: WorkbenchReport | null, layers: number): BlockFact[] | null {
  if (!report || report.blockSparsity.length !== layers) return null;
  return report.blockSparsity.map((reached, i) => {
    const target = report.targetBlockSparsity?.[i] ?? null;
    return {
      reached,
      target: target !== null && Math.abs(target - reached) > 0.005 ? target : null,
      outliers: report.outlierRatios?.[i] ?? null,
    };
  });
}

/** "47.3%", or "target 50%, reached 47.3%" where the masks missed what was asked. */
export function reachedText(f: BlockFact): string {
  if (f.target === null) return formatPercent(f.reached);
  // A target is a slider's value or an allocation's split: whole percents unless it has a fraction.
  const target = formatPercent(f.target, Number.isInteger(Math.round(f.target * 1000) / 10) ? 0 : 1);
  return `target ${target}, reached ${formatPercent(f.reached)}`;
}

/** "outliers 3.1%": OWL's outlier ratio of a block. */
export const outliersText = (ratio: number): string => `outliers ${ratio.toFixed(1)}%`;

/** What the outlier ratio is, for a tooltip. */
export const OUTLIERS_HELP =
  'OWL’s outlier ratio: the share of the block’s Wanda scores (|w|·‖x‖) above M × their mean, on the dense model. Blocks with more outliers are pruned less.';

/**
 * What a searched split says of itself, once its report is in: "Split found by EvoPress after 50
 * generations: KL 0.0123 …"; null when the report's allocation searched nothing.
 */
export function searchText(report: WorkbenchReport | null, search: SearchProgress | null | undefined): string | null {
  if (!report || 'structure' in report || report.recipe.allocation !== 'evopress' || !search) return null;
  return `Split found by EvoPress after ${formatInteger(search.generation)} of ${formatInteger(search.generations)} generations (${formatCountOf(search.evaluations, 'split')} measured): KL ${formatValue(search.fitness, 3)} nats per token from the dense model’s predictions on the calibration windows.`;
}
