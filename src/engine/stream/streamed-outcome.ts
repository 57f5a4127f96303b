// What a pass a block at a time hands back, in the forms the rest of the engine speaks: a prune
// report like a whole-model run's, and the small files (config.json, recipe.json, the files copied
// from the source) that go beside the streamed weight files. The CLI writes them to a directory, the
// page to the browser's file store.
import type { PruneRecipe, PruneReport } from '../eval/pruner';
import type { CalibrationData } from '../pruning/calibration';
import type { ModelConfig } from '../model/config';
import {
  CONFIG_FILE,
  exportedRecipe,
  type ExportedRecipe,
  type ExportProvenance,
  quantizedNote,
  RECIPE_FILE,
} from '../export/checkpoint-export';
import type { StreamedPruneResult } from './streamed-prune';

/** The pass's report as a whole-model prune words it; null when nothing was measured. */
export function streamedReport(
  recipe: PruneRecipe,
  calibration: CalibrationData | null,
  result: StreamedPruneResult,
): PruneReport | null {
  if (!result.metric) return null;
  return {
    recipe,
    calibration: calibration?.description ?? null,
    metric: result.metric,
    ...result.report,
    targetBlockSparsity: recipe.nm ? null : result.report.blockSparsity.map(() => recipe.sparsity),
    outlierRatios: null,
    // The pass calibrates sequentially unless told otherwise (streamed-prune.ts).
    calibrationMode: recipe.calibration ? (recipe.calibrationMode ?? 'sequential') : null,
    timeMs: {
      calibration: result.timeMs.calibration,
      prune: result.timeMs.prune,
      evaluate: result.timeMs.evaluate,
      firstEstimate: null,
    },
    kernels: null,
  };
}

/** config.json, recipe.json and the files copied from the source, for an export the pass wrote. */
export function streamedSmallFiles(
  config: ModelConfig,
  provenance: ExportProvenance,
  result: StreamedPruneResult,
  report: PruneReport | null,
  copied: Record<string, Uint8Array>,
): { files: Map<string, Uint8Array>; recipe: ExportedRecipe } {
  const x = result.export;
  if (!x) throw new Error('the pass wrote no export');
  const encode = (v: unknown) => new TextEncoder().encode(`${JSON.stringify(v, null, 2)}\n`);
  const recipe = exportedRecipe({
    config,
    provenance: { ...provenance, report, denseMetric: result.denseMetric ?? provenance.denseMetric },
    structure: {
      removedBlocks: [],
      blockMap: x.blocks.map((b) => b.block),
      heads: 'zeroed',
      neurons: 'zeroed',
      prunedHeads: null,
    },
    blocks: x.blocks,
    zero: x.zero,
    prunable: x.prunable,
    params: x.params,
    files: {
      weights: x.files.filter((f) => f.name !== 'masks.safetensors').map((f) => f.name),
      masks: 'masks.safetensors',
      copied: Object.keys(copied),
    },
    notes: [
      ...x.notes,
      ...(provenance.notes ?? []),
      ...quantizedNote(provenance.recipe ?? report?.recipe),
      'pruned a block at a time within the memory budget',
    ],
  });
  return {
    files: new Map<string, Uint8Array>([
      [CONFIG_FILE, encode(x.config)],
      [RECIPE_FILE, encode(recipe)],
      ...Object.entries(copied),
    ]),
    recipe,
  };
}
