// What to do to a model, as data: a weight-pruning recipe (unstructured or N:M) or a structured one
// (heads, FFN neurons, blocks, sublayers, tokens), and the one check of a recipe against the
// catalogue. The Pruner refuses what this refuses, the CLI exits 2 on it, and the page disables it.
import type { CalibrationSpec } from './calibration';
import {
  type AllocationId,
  type CalibrationMode,
  type Choices,
  checkChoices,
  type Family,
  type MethodId,
  type Scope,
  type StructuredGranularity,
  type StructuredScoreId,
} from './catalogue';

export interface PruneRecipe {
  method: MethodId;
  /** Target fraction of the prunable weights removed (1 − N/M with `nm`). */
  sparsity: number;
  /** Which weights compete (default: the method's own, from the catalogue). */
  scope?: Scope;
  /** Semi-structured N:M along the input dimension; replaces scope and allocation. */
  nm?: { n: number; m: number } | null;
  allocation?: AllocationId;
  /** OWL's outlier threshold M and spread λ (allocation 'owl'; defaults 5 and 0.08). */
  owl?: { m: number; lambda: number };
  /**
   * An explicit sparsity per block (the page's per-layer sliders): replaces the global value. Only
   * for per-layer or per-row selection under the uniform allocation.
   */
  blockSparsity?: number[];
  calibration?: CalibrationSpec;
  /** How each block's statistics are gathered (default: the method's for the family, from the catalogue). */
  calibrationMode?: CalibrationMode;
  seed?: number;
}

export interface StructuredRecipe {
  granularity: StructuredGranularity;
  /**
   * Fraction removed: of all heads, of all FFN neurons, of the blocks, of the 2·L sublayers; for
   * tokens, the fraction of tokens dropped at each block from `tokenFrom` on (keep = 1 − amount).
   */
  amount: number;
  /** How the units are ranked (default: the granularity's first score for the family). */
  score?: StructuredScoreId;
  scope?: 'layer' | 'global';
  /** First block whose input is token-pruned (default 1). */
  tokenFrom?: number;
  calibration?: CalibrationSpec;
}

/** The catalogue's choices a recipe makes. */
export function choicesOf(r: PruneRecipe | StructuredRecipe, family: Family): Choices {
  if ('granularity' in r) return { family, granularity: r.granularity, score: r.score, scope: r.scope };
  return {
    family,
    granularity: r.nm ? 'nm' : 'unstructured',
    method: r.method,
    scope: r.scope,
    allocation: r.allocation,
    calibrationMode: r.calibrationMode,
    perBlock: r.blockSparsity !== undefined,
  };
}

/** Throws the catalogue's RecipeError, naming both choices, when the recipe cannot be honoured. */
export function checkRecipe(r: PruneRecipe | StructuredRecipe, family: Family): void {
  checkChoices(choicesOf(r, family));
}
