// A pruned model as a Hugging Face checkpoint directory that `transformers` loads with
// from_pretrained unchanged: file name → bytes.
//
//   config.json             the source config.json, every field kept; changed: n_layer /
//                           num_hidden_layers when blocks are removed, tie_word_embeddings: false when
//                           a GPT-2 carries its own lm_head, pruned_heads when heads are removed physically,
//                           torch_dtype: the dtype of most weights (set when the source had it or it is not float32)
//   model.safetensors       the weights as the source stored them (ExportInput.source): each tensor in its
//     or                    source dtype (F32, F16, BF16, F64) under its source name (GPT-2 with or without
//   model.safetensors.index.json + model-0000i-of-0000n.safetensors
//                           "transformer."), in its source shard when the source was sharded; F32, canonical
//                           names, one file without a source. Pruned weights are stored as zeros (SparseGPT's
//                           reconstructed values, rounded to the source dtype, where it ran); a tied lm_head
//                           and tensors the architecture does not use (GPT-2's causal-mask buffers) are not
//                           written
//   masks.safetensors       U8 0/1 per prunable weight matrix, same names and shapes as the weights
//   recipe.json             what was done and what it measured (see ExportedRecipe)
//   tokenizer.json, ...     copied from the source (extraFiles)
//
// Structured pruning (StructuralPruning, ModelMasks' vocabulary):
//   - a block with both sublayers removed is dropped and the blocks after it are renumbered;
//   - a removed sublayer, FFN neuron or (by default) attention head becomes zero weights and biases,
//     which is exact: the exported model computes what the masked forward pass computes;
//   - heads can instead be removed physically with a HeadRemover (physicalHeadRemover in ./heads,
//     built on pruning/structured/physical.ts): smaller q/k/v/output matrices and config
//     "pruned_heads", which transformers 4.x applies on load (prune_heads) before it reads the
//     weights. transformers 5 no longer does, hence zeroing by default;
//   - what config.json can say is cut out instead (uniform-cut.ts): FFN neurons when every block
//     keeps the same number (n_inner / intermediate_size), and Llama-family heads when every block
//     keeps the same key/value heads with equal query groups (num_attention_heads,
//     num_key_value_heads, head_dim); recipe.json notes what stays zeroed and why.
import pkg from '../../../package.json';
import {
  mainDType,
  renamedStorage,
  TORCH_DTYPE,
  type FloatDType,
  WEIGHTS_FILE,
  writeWeightFiles,
  type Checkpoint,
  type HostTensor,
} from '../model/checkpoint';
import { INDEX_FILE } from '../io/shard-index';
import { architectureOf, numHeads, numLayers, ffnSize, parseConfig, type ModelConfig } from '../model/config';
import { cutUnits } from './heads';
import { uniformCut } from './uniform-cut';
import { GPT2_PREFIX, linearSpecs } from '../model/schema';
import type { PruneRecipe, PruneReport, StructuredPruneRecipe, StructuredReport } from '../eval/pruner';
import type { RecoveryReport } from '../eval/recovery';
import type { CalibrationSpec } from '../pruning/calibration';
import { maskedValues } from '../pruning/masked';
import { writeSafetensors, type TensorEntry } from '../io/safetensors';
import { blockMap, renameTensor, structuralKeep, type StructuralPruning } from './structure';

export const CONFIG_FILE = 'config.json';
export const MASKS_FILE = 'masks.safetensors';
export const RECIPE_FILE = 'recipe.json';
export const MASKS_METADATA = {
  format: 'pt',
  content: 'pruning masks: 1 keeps the weight, 0 removes it; names and shapes as in the weights',
};
/** Files of a source model directory worth carrying over into an export, when present. */
export const COPIED_FILES = [
  'tokenizer.json',
  'tokenizer_config.json',
  'special_tokens_map.json',
  'vocab.json',
  'merges.txt',
  'preprocessor_config.json',
  'generation_config.json',
] as const;
const GENERATED = new Set([CONFIG_FILE, WEIGHTS_FILE, INDEX_FILE, MASKS_FILE, RECIPE_FILE]);

export const ENGINE = { name: pkg.name as string, version: pkg.version as string };

export class ExportError extends Error {}

/**
 * Physically removes attention heads: given tensors named as in the exported checkpoint (all its
 * weights, or only the masks of its weight matrices — any subset) and, per exported block, the head
 * indices to remove, returns the same map with the affected q/k/v/output tensors sliced; tensors it
 * does not concern come back unchanged. This is what transformers' prune_heads does on load.
 */
export type HeadRemover = (
  config: ModelConfig,
  tensors: Map<string, HostTensor>,
  prunedHeads: Record<number, number[]>,
) => Map<string, HostTensor>;

export interface ExportProvenance {
  /** Where the source model came from (a directory, a model id). */
  source?: string;
  recipe?: PruneRecipe | StructuredPruneRecipe | Record<string, unknown> | null;
  /** What calibration data was used, in words. */
  calibration?: string | null;
  /** Target sparsity of each source block (from the allocation). */
  blockSparsity?: number[];
  /** The measured report (unstructured or structured); its metric, sizes and costs go into recipe.json. */
  report?: PruneReport | StructuredReport | null;
  /** The dense model's metric, for comparison. */
  denseMetric?: unknown;
  /** The recovery the exported weights come from (eval/recovery.ts), when there was one. */
  recovery?: RecoveryReport | null;
  notes?: string[];
}

export interface ExportInput {
  config: ModelConfig;
  /** The source model's weights under their canonical names (Checkpoint.weights). */
  weights: Map<string, HostTensor>;
  /** How the source stored its weights and what it held besides (the loaded Checkpoint); without it the
   * weights are written F32 under canonical names in one file. */
  source?: Pick<Checkpoint, 'storage' | 'ignored'>;
  /** Unstructured / N:M masks by weight name (UnstructuredResult.masks). */
  masks?: Map<string, Uint8Array> | null;
  /** Replacement values for some weights (SparseGPT's reconstruction, UnstructuredResult.weights). */
  replaced?: Map<string, HostTensor> | null;
  structure?: StructuralPruning;
  /** When given, partially removed heads are removed physically (config "pruned_heads"); else zeroed. */
  removeHeads?: HeadRemover;
  /** Source files copied as they are: tokenizer.json, preprocessor_config.json, ... */
  extraFiles?: Record<string, Uint8Array>;
  provenance?: ExportProvenance;
  date?: Date;
}

export interface ExportedBlock {
  sourceBlock: number;
  /** Index in the exported model; null when the block was removed. */
  block: number | null;
  attention: boolean;
  mlp: boolean;
  heads: number;
  /** Heads removed physically (listed in config "pruned_heads"), by index in the source block. */
  removedHeads: number[];
  neurons: number;
  /** Target sparsity of the block's prunable weights, when an allocation gave one. */
  targetSparsity: number | null;
  /** Fraction of the block's prunable weights (source shapes) that are zero in the export. */
  sparsity: number;
}

/** recipe.json. */
export interface ExportedRecipe {
  format: 'pruning-workbench/recipe';
  formatVersion: 1;
  engine: { name: string; version: string };
  date: string;
  source: { model: string | null; architecture: string; layers: number; heads: number; ffn: number };
  recipe: Record<string, unknown> | null;
  calibration: string | null;
  structure: {
    removedBlocks: number[];
    /** Source block → exported block (null: removed). */
    blockMap: (number | null)[];
    heads: 'zeroed' | 'removed';
    neurons: 'zeroed' | 'removed';
    prunedHeads: Record<string, number[]> | null;
  };
  blocks: ExportedBlock[];
  /** Over the prunable weight matrices, counted at their source shapes. */
  sparsity: { prunable: number; zero: number; fraction: number };
  params: { exported: number; nonzero: number };
  metrics: {
    metric: unknown;
    dense: unknown;
    params: number;
    nonzeroParams: number;
    denseFlops: number;
    flops: number;
    bytes: PruneReport['bytes'];
    timeMs: PruneReport['timeMs'];
  } | null;
  /** Training after pruning: its mode and settings, the data, the metric before and after, the curves. */
  recovery: RecoveryReport | null;
  /** weights: model.safetensors, or the index and then the shards. */
  files: { weights: string[]; masks: string; copied: string[] };
  notes: string[];
}

/** A recipe as JSON: a custom calibration set is described, not embedded. */
export function recipeToJson(
  r: PruneRecipe | StructuredPruneRecipe | Record<string, unknown> | null | undefined,
): Record<string, unknown> | null {
  if (!r) return null;
  const out: Record<string, unknown> = { ...r };
  const cal = (r as PruneRecipe).calibration as CalibrationSpec | undefined;
  if (cal?.custom) {
    const c = cal.custom;
    out.calibration = {
      ...cal,
      custom:
        c.kind === 'text'
          ? { kind: 'text', bytes: c.bytes.length }
          : { kind: 'images', count: c.count, shape: c.shape },
    };
  }
  return out;
}

const encodeJson = (v: unknown) => new TextEncoder().encode(`${JSON.stringify(v, null, 2)}\n`);

function sameValues(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function applyKeep(t: HostTensor, keep: ArrayLike<number> | null): HostTensor {
  if (!keep) return t;
  if (keep.length !== t.data.length)
    throw new ExportError(`mask of ${keep.length} entries for a tensor of ${t.data.length}`);
  return { shape: t.shape, data: maskedValues(t.data, keep) };
}

function checkStructure(config: ModelConfig, s: StructuralPruning | undefined): void {
  if (!s) return;
  const layers = numLayers(config);
  const check = (what: string, xs: unknown[] | undefined, inner?: number) => {
    if (!xs) return;
    if (xs.length > layers) throw new ExportError(`structure.${what} has ${xs.length} entries for ${layers} blocks`);
    if (inner !== undefined) {
      xs.forEach((row, l) => {
        if (row && (row as unknown[]).length !== inner)
          throw new ExportError(`structure.${what}[${l}] has ${(row as unknown[]).length} entries, expected ${inner}`);
      });
    }
  };
  check('attention', s.attention);
  check('mlp', s.mlp);
  check('heads', s.heads, numHeads(config));
  check('neurons', s.neurons, ffnSize(config));
}

/** recipe.json's note on what a quantized export's block linears hold (none without quantization). */
export function quantizedNote(recipe: ExportProvenance['recipe']): string[] {
  const q = (recipe as PruneRecipe | undefined)?.quant;
  if (!q) return [];
  return [
    `the block linears hold the dequantized values of their ${q.bits}-bit grid (${q.quantizer}, ${q.groupSize > 0 ? `groups of ${q.groupSize} input columns` : 'one scale per output row'}, ${q.symmetric ? 'symmetric' : 'with zero points'}${q.actOrder ? ', act-order' : ''}: recipe.quant), in the checkpoint's dtype, which may round them off the grid; the codes, scales and zero points are written with --packed gptq`,
  ];
}

/** recipe.json's note on the source's tensors the architecture does not use (none when there are none). */
export function unusedNote(unused: string[]): string[] {
  if (unused.length === 0) return [];
  const some = unused.length > 4 ? `${unused.slice(0, 4).join(', ')}, …` : unused.join(', ');
  return [
    `${unused.length} tensors of the source that the architecture does not use are not written (${some}); GPT-2's causal-mask buffers (attn.bias, attn.masked_bias) are rebuilt by transformers on load`,
  ];
}

/**
 * A GPT-2 lm_head equal to wte is the tied head: it is not written (deleted from `out`). One that
 * differs is written, and config.json's tie_word_embeddings set to false so transformers keeps it.
 * Returns recipe.json's note.
 */
export function untieOrDrop(config: ModelConfig, out: Map<string, HostTensor>, raw: Record<string, unknown>): string[] {
  const head = out.get('lm_head.weight');
  if (config.kind !== 'gpt2' || !head) return [];
  if (sameValues(head.data, out.get(`${GPT2_PREFIX}wte.weight`)!.data)) {
    out.delete('lm_head.weight');
    return [];
  }
  if (raw.tie_word_embeddings === false) return [];
  raw.tie_word_embeddings = false;
  return [
    'the source lm_head differs from wte: it is written, and tie_word_embeddings is set to false so transformers keeps it',
  ];
}

/** config.json's dtype fields for weights mostly stored as `dtype`. */
export function setTorchDtype(raw: Record<string, unknown>, main: FloatDType): void {
  const dtype = TORCH_DTYPE[main];
  // transformers reads a missing torch_dtype as float32; newer versions write it as "dtype".
  if (raw.torch_dtype !== undefined || dtype !== TORCH_DTYPE.F32) raw.torch_dtype = dtype;
  if (raw.dtype !== undefined) raw.dtype = dtype;
}

/** What recipe.json says, given what the export counted. */
export function exportedRecipe(p: {
  config: ModelConfig;
  provenance: ExportProvenance;
  date?: Date;
  structure: ExportedRecipe['structure'];
  blocks: ExportedBlock[];
  /** Zero and total entries of the prunable matrices, at their source shapes. */
  zero: number;
  prunable: number;
  params: ExportedRecipe['params'];
  files: ExportedRecipe['files'];
  notes: string[];
}): ExportedRecipe {
  const { config } = p;
  const prov = p.provenance;
  const report = prov.report ?? null;
  return {
    format: 'pruning-workbench/recipe',
    formatVersion: 1,
    engine: ENGINE,
    date: (p.date ?? new Date()).toISOString(),
    source: {
      model: prov.source ?? null,
      architecture: architectureOf(config),
      layers: numLayers(config),
      heads: numHeads(config),
      ffn: ffnSize(config),
    },
    recipe: recipeToJson(prov.recipe ?? report?.recipe),
    calibration: prov.calibration ?? report?.calibration ?? null,
    structure: p.structure,
    blocks: p.blocks,
    sparsity: { prunable: p.prunable, zero: p.zero, fraction: p.prunable ? p.zero / p.prunable : 0 },
    params: p.params,
    metrics: report
      ? {
          metric: report.metric,
          dense: prov.denseMetric ?? null,
          params: report.params,
          nonzeroParams: report.nonzeroParams,
          denseFlops: report.denseFlops,
          flops: report.flops,
          bytes: report.bytes,
          timeMs: report.timeMs,
        }
      : null,
    recovery: prov.recovery ?? null,
    files: p.files,
    notes: p.notes,
  };
}

/** Exports a (pruned) model as the files of a Hugging Face checkpoint directory, in writing order. */
export function exportCheckpoint(input: ExportInput): Map<string, Uint8Array> {
  const { config, structure } = input;
  const layers = numLayers(config);
  checkStructure(config, structure);
  const map = blockMap(config, structure);
  const kept = map.filter((v) => v !== null).length;
  if (kept === 0) throw new ExportError('every block is removed; a checkpoint needs at least one');

  // 1. Unstructured masks (over SparseGPT's values where given), then structural zeros.
  const specs = linearSpecs(config);
  const prunable = specs.filter((s) => s.prunable);
  const masks = input.masks ?? new Map<string, Uint8Array>();
  for (const name of masks.keys()) {
    if (!input.weights.has(name)) throw new ExportError(`a mask is given for "${name}", which the model does not have`);
  }
  const weights = new Map<string, HostTensor>();
  const combinedMasks = new Map<string, Uint8Array>(); // source names, every prunable matrix
  for (const [name, t] of input.weights) weights.set(name, input.replaced?.get(name) ?? t);
  for (const spec of specs) {
    const unstructured = masks.get(spec.weight) ?? null;
    const keep = structuralKeep(config, spec, structure);
    let wKeep: Uint8Array | null = unstructured;
    if (keep.weight) wKeep = unstructured ? keep.weight.map((v, i) => v & unstructured[i]) : keep.weight;
    weights.set(spec.weight, applyKeep(weights.get(spec.weight)!, wKeep));
    if (spec.bias && keep.bias) weights.set(spec.bias, applyKeep(weights.get(spec.bias)!, keep.bias));
    if (spec.prunable)
      combinedMasks.set(spec.weight, wKeep ?? new Uint8Array(spec.inFeatures * spec.outFeatures).fill(1));
  }

  // 2. Heads: those whose whole layer goes are the attention sublayer (already zeroed); a partial
  // removal is physical only with a remover.
  const prunedHeads: Record<number, number[]> = {};
  const prunedHeadsBySource: Record<number, number[]> = {};
  if (input.removeHeads && structure?.heads) {
    structure.heads.forEach((row, l) => {
      const to = map[l];
      if (!row || to === null || structure.attention?.[l] === false) return;
      const gone = row.flatMap((v, h) => (v === 0 ? [h] : []));
      if (gone.length > 0 && gone.length < row.length) {
        prunedHeads[to] = gone;
        prunedHeadsBySource[l] = gone;
      }
    });
  }
  const physicalHeads = Object.keys(prunedHeads).length > 0;

  // 3. Drop removed blocks and renumber; a GPT-2 lm_head tied to wte is not written.
  const raw: Record<string, unknown> = { ...config.raw };
  raw[config.kind === 'gpt2' ? 'n_layer' : 'num_hidden_layers'] = kept;
  let out = new Map<string, HostTensor>();
  const sourceOf = new Map<string, string>();
  for (const [name, t] of weights) {
    const to = renameTensor(config, name, map);
    if (to === null) continue;
    out.set(to, t);
    sourceOf.set(to, name);
  }
  const notes = [...(input.provenance?.notes ?? [])];
  notes.push(...quantizedNote(input.provenance?.recipe));
  notes.push(...unusedNote(input.source?.ignored ?? []));
  notes.push(...untieOrDrop(config, out, raw));
  // What config.json can say of the removal is cut out (same widths in every block), the rest stays zeroed.
  const cut = uniformCut(config, structure, map);
  notes.push(...cut.notes);
  // The renumbered model at its source widths, which the cut reads its tensors by.
  const uncut = parseConfig(raw);
  const cutting = !!(cut.masks.heads || cut.masks.neurons);
  if (cutting) {
    out = cutUnits(uncut, out, cut.masks);
    Object.assign(raw, cut.config);
  }
  const storage = input.source && renamedStorage(input.source.storage, sourceOf);
  setTorchDtype(raw, mainDType(out, storage));
  const exportedConfig = parseConfig(raw);
  let outMasks = new Map<string, HostTensor>();
  for (const [name, m] of combinedMasks) {
    const to = renameTensor(config, name, map);
    if (to !== null) outMasks.set(to, { shape: input.weights.get(name)!.shape, data: Float32Array.from(m) });
  }
  if (cutting) outMasks = cutUnits(uncut, outMasks, cut.masks);
  if (physicalHeads) {
    out = input.removeHeads!(exportedConfig, out, prunedHeads);
    outMasks = input.removeHeads!(exportedConfig, outMasks, prunedHeads);
    raw.pruned_heads = Object.fromEntries(Object.entries(prunedHeads).map(([k, v]) => [k, v]));
    notes.push(
      'heads are removed physically and listed in config "pruned_heads"; transformers applies them with prune_heads on load',
    );
  }

  // 4. recipe.json.
  const perBlock: ExportedBlock[] = [];
  let zeroTotal = 0;
  let prunableTotal = 0;
  for (let l = 0; l < layers; l++) {
    let zero = 0;
    let total = 0;
    for (const spec of prunable.filter((s) => s.layer === l)) {
      const m = combinedMasks.get(spec.weight)!;
      total += m.length;
      for (let i = 0; i < m.length; i++) if (!m[i]) zero++;
    }
    zeroTotal += zero;
    prunableTotal += total;
    const attention = structure?.attention?.[l] !== false;
    const mlp = structure?.mlp?.[l] !== false;
    const headsKept = attention
      ? (structure?.heads?.[l] ?? new Array(numHeads(config)).fill(1)).filter((v) => v !== 0).length
      : 0;
    const neuronsKept = mlp
      ? (structure?.neurons?.[l] ?? new Array(ffnSize(config)).fill(1)).filter((v) => v !== 0).length
      : 0;
    perBlock.push({
      sourceBlock: l,
      block: map[l],
      attention,
      mlp,
      heads: headsKept,
      removedHeads: prunedHeadsBySource[l] ?? [],
      neurons: neuronsKept,
      targetSparsity: input.provenance?.blockSparsity?.[l] ?? input.provenance?.report?.blockSparsity?.[l] ?? null,
      sparsity: total ? zero / total : 0,
    });
  }
  let exportedParams = 0;
  let nonzero = 0;
  for (const t of out.values()) {
    exportedParams += t.data.length;
    for (let i = 0; i < t.data.length; i++) if (t.data[i] !== 0) nonzero++;
  }
  const weightFiles = writeWeightFiles(out, storage);
  const copied = Object.keys(input.extraFiles ?? {});
  for (const name of copied) {
    if (GENERATED.has(name) || weightFiles.has(name))
      throw new ExportError(`extra file "${name}" would overwrite the generated one`);
    if (name.includes('/') || name.includes('\\') || name.startsWith('.'))
      throw new ExportError(`extra file name "${name}" is not a plain file name`);
  }
  const recipe = exportedRecipe({
    config,
    provenance: input.provenance ?? {},
    date: input.date,
    structure: {
      removedBlocks: map.flatMap((v, l) => (v === null ? [l] : [])),
      blockMap: map,
      heads: physicalHeads || cut.heads === 'removed' ? 'removed' : 'zeroed',
      neurons: cut.neurons === 'removed' ? 'removed' : 'zeroed',
      prunedHeads: physicalHeads ? (raw.pruned_heads as Record<string, number[]>) : null,
    },
    blocks: perBlock,
    zero: zeroTotal,
    prunable: prunableTotal,
    params: { exported: exportedParams, nonzero },
    files: { weights: [...weightFiles.keys()], masks: MASKS_FILE, copied },
    notes,
  });

  // 5. The files.
  const maskEntries = new Map<string, TensorEntry>();
  for (const [name, m] of outMasks)
    maskEntries.set(storage?.fileNames.get(name) ?? name, {
      dtype: 'U8',
      shape: m.shape,
      data: Uint8Array.from(m.data, (v) => (v ? 1 : 0)),
    });
  const files = new Map<string, Uint8Array>();
  files.set(CONFIG_FILE, encodeJson(raw));
  for (const [name, bytes] of weightFiles) files.set(name, bytes);
  files.set(MASKS_FILE, writeSafetensors(maskEntries, MASKS_METADATA));
  files.set(RECIPE_FILE, encodeJson(recipe));
  for (const name of copied) files.set(name, input.extraFiles![name]);
  return files;
}
