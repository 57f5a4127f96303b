// The worker's side of the model map's colours: head and FFN importance, computed once per model
// and calibration set (a slider move must not recompute it), and the pruned share of each head, FFN
// and block of a configuration, read from the masks the worker already holds when it can.
import {
  mapImportance,
  prunedSharesFromMasks,
  prunedSharesFromStructure,
  type MapImportance,
  type PrunedShares,
} from '../engine/eval/map-importance';
import type { Pruner } from '../engine/eval/pruner';
import type { CalibrationSpec } from '../engine/pruning/calibration';
import type { ProgressFn, WorkbenchRecipe } from './api';
import { prunedFor, type PrunedMasks } from './inspect-job';

/** Finished importance by calibration spec, per pruner: a new model brings a new pruner and drops these. */
const importanceCache = new WeakMap<Pruner, Map<string, MapImportance>>();

export async function importanceFor(
  pruner: Pruner,
  calibration: CalibrationSpec | null,
  signal: AbortSignal,
  onProgress: ProgressFn,
): Promise<MapImportance> {
  const spec = pruner.calibSpec({ calibration: calibration ?? undefined });
  const key = JSON.stringify(spec);
  const cache = importanceCache.get(pruner) ?? new Map<string, MapImportance>();
  importanceCache.set(pruner, cache);
  const hit = cache.get(key);
  if (hit) return hit;
  const label = (stage: string) => `Scoring importance: ${stage}`;
  onProgress({ label: label('calibration data'), fraction: null });
  const m = await mapImportance(pruner, spec, {
    signal,
    onProgress: (stage, fraction) => onProgress({ label: label(stage), fraction }),
  });
  // Only a finished computation is kept; a cancelled one starts again next time.
  cache.set(key, m);
  return m;
}

/** The pruned shares of the configuration, from masks the worker holds when one matches. */
export async function prunedSharesFor(
  pruner: Pruner,
  recipe: WorkbenchRecipe,
  known: (PrunedMasks | null)[],
  signal: AbortSignal,
): Promise<PrunedShares> {
  const masks = await prunedFor(pruner, recipe, known, signal);
  const config = pruner.session.config;
  return masks.result
    ? prunedSharesFromMasks(config, masks.result.masks)
    : prunedSharesFromStructure(config, masks.plan?.masks ?? {});
}
