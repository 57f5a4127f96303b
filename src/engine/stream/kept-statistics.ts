// One-shot calibration statistics kept block by block between passes over a model read a block at a
// time. One-shot statistics are the dense model's, so they do not depend on the sparsity: a slider
// step or a sweep point prunes from them without calibrating again. Sequential ones depend on how
// the blocks before were pruned and are gathered anew each pass; SparseGPT's Gram matrices (in² floats
// per linear, every block) are too large to keep.
import type { BlockStatistics } from '../pruning/block-calibration';
import type { CalibrationData } from '../pruning/calibration';
import { blockCapture, type UnstructuredRecipe } from '../pruning/unstructured';

/** What a pass over the blocks takes and gives of kept statistics (see pruneStreamed). */
export interface StatisticsUse {
  /** Every block's statistics, kept: the pass calibrates nothing. */
  kept?: BlockStatistics[];
  /** Hears each block's statistics as the pass gathers them. */
  gathered?: (stats: BlockStatistics) => void;
}

/** Whether two language-model calibration sets are the same windows of the same tokens. */
const sameWindows = (a: CalibrationData, b: CalibrationData) =>
  a.kind === 'lm' &&
  b.kind === 'lm' &&
  a.length === b.length &&
  a.windows.length === b.windows.length &&
  a.windows.every((v, i) => v === b.windows[i]);

export class KeptStatistics {
  private data: CalibrationData | null = null;
  private stats: BlockStatistics[] = [];

  constructor(private readonly layers: number) {}

  /** The use a pass of `recipe` calibrated on `calibration` makes of what is kept. */
  forPass(recipe: UnstructuredRecipe | null, calibration: CalibrationData | null): StatisticsUse {
    if (!recipe || !calibration || (recipe.calibrationMode ?? 'sequential') !== 'one-shot') return {};
    if (blockCapture(recipe).activationGram) return {}; // GPTQ reads the Gram matrices, never kept
    const held = this.data;
    if (held && sameWindows(held, calibration) && this.stats.length === this.layers) return { kept: this.stats };
    const gathered: BlockStatistics[] = [];
    return {
      gathered: (s) => {
        if (s.gram.size > 0) return;
        gathered[s.layer] = s;
        if (gathered.filter(Boolean).length === this.layers) {
          this.data = calibration;
          this.stats = gathered;
        }
      },
    };
  }

  /** Forgets what is kept (the calibration text changed). */
  clear(): void {
    this.data = null;
    this.stats = [];
  }
}
