// The worker's side of the layer detail view: one block linear's scores under the method the page
// shows, its mask under the page's configuration (the masks the worker holds when they match,
// else pruned now without measuring), and what the two say together; the grid its kept weights
// are stored on when the configuration quantizes them; and the blocks' sensitivity curves,
// computed once per method and calibration set (the Pruner caches them).
import { Importance } from '../engine/eval/importance';
import { layerDetailData, structuralWeightMask } from '../engine/eval/layer-detail';
import type { Pruner, RunOptions } from '../engine/eval/pruner';
import { numLayers } from '../engine/model/config';
import type { LinearSpec } from '../engine/model/schema';
import {
  allocationEntry,
  defaultCalibrationMode,
  defaultScope,
  granularityEntry,
  type MethodId,
  methodEntry,
} from '../engine/pruning/catalogue';
import { prunableLinears } from '../engine/pruning/unstructured';
import type { QuantizedLinear } from '../engine/quant/types';
import type {
  LayerDetail,
  LayerDetailRequest,
  ProgressFn,
  QuantizationGrid,
  SensitivityRequest,
  SensitivityResult,
  WorkbenchRecipe,
} from './api';
import { prunedFor, type PrunedMasks } from './inspect-job';

/** The method's catalogue entry; an unknown id is refused by the catalogue's message. */
const checkMethod = (method: unknown): MethodId => methodEntry(String(method)).id;

/** The block linear the request names, or a message saying what the block has. */
function findLinear(pruner: Pruner, layer: number, role: string): LinearSpec {
  const c = pruner.session.config;
  const layers = numLayers(c);
  if (!Number.isInteger(layer) || layer < 0 || layer >= layers)
    throw new Error(`block ${layer} does not exist: the model has blocks 0 to ${layers - 1}`);
  const mine = prunableLinears(c).filter((s) => s.layer === layer);
  const spec = mine.find((s) => s.role === role);
  if (!spec) throw new Error(`block ${layer} has no "${role}" layer (it has ${mine.map((s) => s.role).join(', ')})`);
  return spec;
}

/** A weight's mask under held or fresh masks; null when nothing is pruned. */
function maskOf(pruner: Pruner, spec: LinearSpec, pruned: PrunedMasks | null): Uint8Array | null {
  if (!pruned) return null;
  if (pruned.result) return pruned.result.masks.get(spec.weight) ?? null;
  const s = pruner.session;
  return structuralWeightMask(s.config, s.checkpoint.weights, spec, pruned.plan?.masks ?? {});
}

/**
 * The grid of the row and group with the largest scale (the widest, so its points cover the weights
 * the histogram shows), and the share of the linear's kept weights at each code.
 */
export function quantizationGrid(q: QuantizedLinear, groupSize: number): QuantizationGrid {
  let at = 0;
  for (let i = 1; i < q.scales.length; i++) if (q.scales[i] > q.scales[at]) at = i;
  const scale = q.scales[at];
  const zero = q.zeros[at];
  const codes = 2 ** q.bits;
  const counts = new Array<number>(codes).fill(0);
  let kept = 0;
  for (let i = 0; i < q.codes.length; i++) {
    if (!q.mask[i]) continue;
    counts[q.codes[i]]++;
    kept++;
  }
  return {
    bits: q.bits,
    symmetric: q.symmetric,
    groupSize,
    groups: q.groups,
    row: Math.floor(at / q.groups),
    group: at % q.groups,
    scale,
    zero,
    points: counts.map((_, code) => scale * (code - zero)),
    shares: counts.map((n) => (kept ? n / kept : 0)),
  };
}

/** The linear's grid when the configuration quantized it; null otherwise. */
function quantizationOf(
  spec: LinearSpec,
  recipe: WorkbenchRecipe | null,
  pruned: PrunedMasks | null,
): QuantizationGrid | null {
  const q = pruned?.result?.quantized?.get(spec.weight);
  if (!q || recipe?.kind !== 'unstructured' || !recipe.recipe.quant) return null;
  return quantizationGrid(q, recipe.recipe.quant.groupSize);
}

/** Within what the weights competed for the mask: the whole layer (or all layers), or each output row. */
function comparisonOf(recipe: WorkbenchRecipe | null): 'layer' | 'row' {
  if (recipe?.kind !== 'unstructured' || recipe.recipe.nm) return 'layer';
  return (recipe.recipe.scope ?? defaultScope(recipe.recipe.method)) === 'row' ? 'row' : 'layer';
}

/** What the reader needs to know to read the threshold right, in words. */
function notesFor(pruner: Pruner, recipe: WorkbenchRecipe | null, method: MethodId): string[] {
  if (!recipe) return ['Nothing is pruned: every weight is kept.'];
  if (recipe.kind === 'structured') {
    const g = granularityEntry(recipe.recipe.granularity);
    if (!g.exports) return [`Pruning ${g.label.toLowerCase()} removes ${g.unit}, not weights: every weight is kept.`];
    return [
      `Structured pruning (${g.label.toLowerCase()}) removes ${g.unit}: the mask shows their rows and columns; no weight score decides it, so the scores shown are |w| and no threshold of them reproduces the mask.`,
    ];
  }
  const r = recipe.recipe;
  const notes: string[] = [];
  if (r.nm)
    notes.push(
      `${r.nm.n}:${r.nm.m} keeps the best ${r.nm.n} of every ${r.nm.m} consecutive inputs of each output: each group has its own cut, not one threshold.`,
    );
  else if (comparisonOf(recipe) === 'row')
    notes.push(
      'Weights compete within each output row, so every row has its own threshold: the line is their median, the band their middle half.',
    );
  else if (r.scope === 'global') notes.push('Global scope: one threshold for the weights of every block.');
  if (r.method === 'sparsegpt')
    notes.push(
      "SparseGPT chooses its mask by w²/[H⁻¹]ᵢᵢ while it updates the weights it keeps; the scores shown are Wanda's, which share its input statistics, and the weights shown are the dense model's.",
    );
  const family = pruner.family;
  const mode =
    r.calibrationMode ??
    defaultCalibrationMode(r.method, family, r.nm ? undefined : (r.scope ?? defaultScope(r.method)));
  if (r.method === 'wanda' && mode === 'sequential')
    notes.push(
      "Wanda chose this mask block by block, on the inputs the already-pruned blocks before it produce; the scores shown are the dense model's, so after block 1 the line need not split them exactly.",
    );
  if (r.method !== method)
    notes.push(`The scores shown are ${methodEntry(method).label}'s; the mask is ${methodEntry(r.method).label}'s.`);
  if (!r.nm && r.allocation && r.allocation !== 'uniform')
    notes.push(`The ${allocationEntry(r.allocation).label} allocation gives each block its own sparsity.`);
  if (r.quant)
    notes.push(
      `The kept weights are stored as ${r.quant.bits}-bit codes; the weight histogram shows the dense model's weights under the grid of the row and group with the largest scale.`,
    );
  return notes;
}

/**
 * The detail of one block linear. Hands back the masks it pruned for itself (null when it used
 * held ones), so the worker can keep them for the next linear of the same configuration.
 */
export async function layerDetail(
  pruner: Pruner,
  request: LayerDetailRequest,
  known: (PrunedMasks | null)[],
  signal: AbortSignal,
  onProgress: ProgressFn,
): Promise<{ detail: LayerDetail; pruned: PrunedMasks | null }> {
  const spec = findLinear(pruner, request.layer, request.role);
  const method = checkMethod(request.method);
  const opts: RunOptions = {
    signal,
    onProgress: (stage, fraction) => onProgress({ label: `Scoring: ${stage}`, fraction }),
  };
  onProgress({ label: `Scoring ${spec.weight}`, fraction: null });
  const scores = await new Importance(pruner).weightScores(spec.weight, method, request.calibration ?? undefined, {
    ...opts,
    seed: request.recipe?.kind === 'unstructured' ? request.recipe.recipe.seed : undefined,
  });
  signal.throwIfAborted();
  let pruned: PrunedMasks | null = null;
  if (request.recipe) {
    onProgress({ label: 'Finding the mask', fraction: null });
    pruned = await prunedFor(pruner, request.recipe, known, signal);
    signal.throwIfAborted();
  }
  const weights = pruner.session.checkpoint.weights.get(spec.weight)!.data;
  const data = layerDetailData(spec, weights, scores, maskOf(pruner, spec, pruned), comparisonOf(request.recipe));
  // The block's share removed, over all its prunable linears: where its sensitivity curve stands.
  let blockWeights = 0;
  let blockRemoved = 0;
  for (const s of prunableLinears(pruner.session.config).filter((l) => l.layer === spec.layer)) {
    const m = maskOf(pruner, s, pruned);
    blockWeights += s.inFeatures * s.outFeatures;
    if (m) blockRemoved += m.reduce((a, v) => a + (v === 0 ? 1 : 0), 0);
  }
  onProgress({ label: 'Done', fraction: 1 });
  const detail: LayerDetail = {
    ...data,
    layer: spec.layer,
    role: spec.role,
    weight: spec.weight,
    inFeatures: spec.inFeatures,
    outFeatures: spec.outFeatures,
    scoreName: methodEntry(method).scoreName,
    notes: notesFor(pruner, request.recipe, method),
    blockSparsity: blockRemoved / blockWeights,
    quantization: quantizationOf(spec, request.recipe, pruned),
  };
  return { detail, pruned: pruned && !known.includes(pruned) ? pruned : null };
}

/** Every block's calibration loss with only that block pruned, at 0…90% sparsity, by the method's scores. */
export async function layerSensitivity(
  pruner: Pruner,
  request: SensitivityRequest,
  signal: AbortSignal,
  onProgress: ProgressFn,
): Promise<SensitivityResult> {
  const method = checkMethod(request.method);
  const calibration = request.calibration ?? undefined;
  onProgress({ label: 'Preparing the calibration data', fraction: null });
  const calib = await pruner.calibration(pruner.calibSpec({ calibration }));
  signal.throwIfAborted();
  const curves = await new Importance(pruner).sensitivityCurves(method, calibration, {
    signal,
    onProgress: (stage, fraction) =>
      onProgress({
        label:
          stage === 'sensitivity'
            ? 'Pruning each block at 10…90% and measuring the calibration loss'
            : `Sensitivity: ${stage}`,
        fraction,
      }),
  });
  return { method: method === 'sparsegpt' ? 'wanda' : method, calibration: calib.description, curves };
}
