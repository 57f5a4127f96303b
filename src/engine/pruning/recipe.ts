// What to do to a model, as data: a weight-pruning recipe (unstructured or N:M) or a structured one
// (heads, FFN neurons, blocks, sublayers, tokens), and the one check of a recipe against the
// catalogue. The Pruner refuses what this refuses, the CLI exits 2 on it, and the page disables it.
import type { CalibrationSpec } from './calibration';
import type { QuantSettings } from '../quant/types';
import {
  type AllocationId,
  allocationDefaults,
  type CalibrationMode,
  type Choices,
  checkChoices,
  defaultCalibrationMode,
  defaultScope,
  type Family,
  granularityEntry,
  needsOf,
  QUANT_BIT_RANGE,
  RecipeError,
  searchUnitEntry,
  scoresFor,
  type MethodId,
  type QuantizerId,
  type SearchUnit,
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
  /** EvoPress's search steps (its generations) and what it splits over (allocation 'evopress'; default blocks). */
  evopress?: { steps: number; units?: SearchUnit };
  /** The kept weights put on a grid of a few bits after (or, with SparseGPT and GPTQ, while) pruning. */
  quant?: Quantization | null;
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

/** How the kept weights are quantized: the grid (bits, groups, symmetry, act-order) and by what. */
export interface Quantization extends QuantSettings {
  quantizer: QuantizerId;
}

/** A quantization with the defaults filled in: a grid with zero points, per channel, no act-order. */
export function resolveQuantization(q: Partial<Quantization> & { bits: number }): Quantization {
  return {
    bits: q.bits,
    groupSize: q.groupSize ?? 0,
    symmetric: q.symmetric ?? false,
    actOrder: q.actOrder ?? false,
    quantizer: q.quantizer ?? 'gptq',
  };
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
    ...(r.quant ? { quantizer: r.quant.quantizer, actOrder: r.quant.actOrder } : {}),
  };
}

/** Throws the catalogue's RecipeError, naming both choices, when the recipe cannot be honoured. */
export function checkRecipe(r: PruneRecipe | StructuredRecipe, family: Family): void {
  checkChoices(choicesOf(r, family));
  if ('method' in r && r.quant) checkQuantization(r.quant);
  if ('method' in r && r.evopress?.units) searchUnitEntry(r.evopress.units);
}

/** Refuses bits and group sizes the quantizers cannot honour. */
export function checkQuantization(q: Partial<Quantization>): void {
  const { min, max } = QUANT_BIT_RANGE;
  if (q.bits !== undefined && !(Number.isInteger(q.bits) && q.bits >= min && q.bits <= max))
    throw new RecipeError(`bits must be a whole number from ${min} to ${max}, got ${q.bits}`);
  if (q.groupSize !== undefined && !(Number.isInteger(q.groupSize) && q.groupSize >= 0))
    throw new RecipeError(
      `the group size must be a whole number of input columns (0: per channel), got ${q.groupSize}`,
    );
}

/** A weight-pruning recipe with every default the catalogue gives filled in: what actually runs. */
export interface ResolvedPruneRecipe extends PruneRecipe {
  /** null for N:M, which groups within rows. */
  scope: Scope | undefined;
  allocation: AllocationId;
  /** null when the method reads no activations. */
  calibrationMode: CalibrationMode | undefined;
  seed: number;
}

/** Fills the recipe's defaults from the catalogue (after checkRecipe). */
export function resolvePruneRecipe(r: PruneRecipe, family: Family): ResolvedPruneRecipe {
  const scope = r.nm ? undefined : (r.scope ?? defaultScope(r.method));
  const allocation = r.allocation ?? 'uniform';
  return {
    ...r,
    scope,
    allocation,
    ...(allocation === 'owl' ? { owl: r.owl ?? (allocationDefaults('owl') as { m: number; lambda: number }) } : {}),
    ...(allocation === 'evopress'
      ? {
          evopress: {
            units: 'blocks' as const,
            ...(allocationDefaults('evopress') as { steps: number }),
            ...r.evopress,
          },
        }
      : {}),
    quant: r.quant ? resolveQuantization(r.quant) : null,
    calibrationMode: r.calibrationMode ?? defaultCalibrationMode(r.method, family, scope) ?? undefined,
    seed: r.seed ?? 0,
  };
}

/** Fills a structured recipe's defaults from the catalogue: its score, scope and first pruned block. */
export function resolveStructuredRecipe(r: StructuredRecipe, family: Family): StructuredRecipe {
  const g = granularityEntry(r.granularity);
  return {
    ...r,
    score: r.score ?? scoresFor(r.granularity, family)[0]?.id,
    ...(g.scopes.length > 0 ? { scope: r.scope ?? g.scopes[0] } : {}),
    ...(r.granularity === 'tokens' ? { tokenFrom: r.tokenFrom ?? 1 } : {}),
  };
}

/** Whether running the recipe reads calibration data (its method, score or allocation does). */
export const needsCalibration = (r: PruneRecipe | StructuredRecipe, family: Family): boolean =>
  needsOf(choicesOf(r, family)).calibration;
