// The worker's side of the inspection views: it turns the page's request (an eval image, a drawn
// image, or text) into the engine's input, finds the pruned model to compare with (the masks the
// worker kept from a measured configuration, else pruned now without measuring it), and runs the
// engine's attention maps, saliency and predictions on the dense model and on the pruned one.
import { attentionMaps, displayBytes, predictions, saliency, type InspectOptions } from '../engine/eval/inspect';
import type { Pruner } from '../engine/eval/pruner';
import type { ModelSession } from '../engine/session';
import { isCausalLm, sequenceLength } from '../engine/model/config';
import type { Weights } from '../engine/model/types';
import type { UnstructuredResult } from '../engine/pruning/unstructured';
import {
  needsCalibration,
  resolveStructuredRecipe,
  type PruneRecipe,
  type StructuredRecipe,
} from '../engine/pruning/recipe';
import { planStructured, type StructuredPlan } from '../engine/pruning/structured/recipe';
import type {
  EvalInputs,
  InspectedInput,
  InspectRequest,
  InspectResult,
  InspectSource,
  InspectView,
  ProgressFn,
  WorkbenchRecipe,
} from './api';

/** A pruned configuration's masks, as the worker keeps them (the last measured one, the last inspected one). */
export interface PrunedMasks {
  /** JSON of the WorkbenchRecipe. */
  key: string;
  session: ModelSession;
  result?: UnstructuredResult;
  plan?: StructuredPlan;
  /** What was pruned, every default filled in, and the calibration in words: what recipe.json records. */
  pruned?: { recipe: PruneRecipe | StructuredRecipe; calibration: string | null; blockSparsity?: number[] };
}

/** Bytes of the continuation sampled after a text input, with a fixed seed so a re-run shows the same. */
export const CONTINUATION = { steps: 40, temperature: 0.8, seed: 1 } as const;
/**
 * Tokens an inspection reads at most: its views hold layers × heads × T² attention weights, which
 * a long context (2,048 tokens of a 22-block, 32-head model: 3 G values) would not fit, and a
 * grid of more tokens cannot be read anyway.
 */
export const INSPECT_MAX_TOKENS = 256;
/** The default text prompt: the eval text's first line, at most this many bytes, cut at a space. */
export const DEFAULT_PROMPT_BYTES = 64;

const recipeKey = (recipe: WorkbenchRecipe) => JSON.stringify(recipe);

/** The input as the engine reads it (pixels C×H×W 0…255, or token ids) and as the page shows it. */
export function resolveInput(
  session: ModelSession,
  source: InspectSource,
): { input: Uint8Array | number[]; shown: InspectedInput } {
  const c = session.config;
  if (c.kind === 'vit') {
    const size = c.numChannels * c.imageSize * c.imageSize;
    const shape = `${c.imageSize}×${c.imageSize}${c.numChannels > 1 ? `×${c.numChannels}` : ''}`;
    if (source.kind === 'text') throw new Error('this model classifies images: pick or draw an image');
    if (source.kind === 'pixels') {
      if (!(source.pixels instanceof Uint8Array) || source.pixels.length !== size) {
        throw new Error(
          `a drawn image must have ${size.toLocaleString('en-US')} pixels (${shape}), got ${source.pixels?.length ?? 0}`,
        );
      }
      return {
        input: source.pixels,
        shown: { kind: 'image', pixels: source.pixels, size: c.imageSize, channels: c.numChannels, label: null },
      };
    }
    const { pixels, label } = evalImage(session, source.index);
    return { input: pixels, shown: { kind: 'image', pixels, size: c.imageSize, channels: c.numChannels, label } };
  }
  if (source.kind !== 'text') throw new Error('this model reads text: type a prompt');
  const tokenizer = session.checkpoint.tokenizer;
  if (!tokenizer) throw new Error('this model has no tokenizer.json, so text cannot be given to it');
  const ids = tokenizer.encode(source.text);
  if (ids.length === 0) throw new Error('type some text to inspect');
  // The model sees at most its context, the inspection at most INSPECT_MAX_TOKENS: the text's end is
  // what its prediction follows.
  const kept = ids.slice(-Math.min(sequenceLength(c), INSPECT_MAX_TOKENS));
  const tokens = kept.map((id) => {
    const text = tokenizer.decode([id]);
    return { id, text, display: displayBytes(Array.from(tokenizer.tokenToBytes(id)), text) };
  });
  return { input: kept, shown: { kind: 'text', tokens, croppedTokens: ids.length - kept.length } };
}

/** Eval image `index`: its pixels (C×H×W, 0…255) and its label's name. */
function evalImage(session: ModelSession, index: number): { pixels: Uint8Array; label: string } {
  const c = session.config;
  const set = session.evalSet;
  if (c.kind !== 'vit' || !set || set.kind !== 'images') throw new Error('this model has no eval images to pick from');
  if (!Number.isInteger(index) || index < 0 || index >= set.count)
    throw new Error(`eval image ${index} does not exist: the eval set holds images 0 to ${set.count - 1}`);
  const size = c.numChannels * c.imageSize * c.imageSize;
  return {
    pixels: set.pixels.slice(index * size, (index + 1) * size),
    label: c.labels[set.labels[index]] ?? `class ${set.labels[index]}`,
  };
}

/** What the picker offers: the first `count` eval images, or a prompt taken from the eval text. */
export function evalInputs(session: ModelSession, count: number): EvalInputs {
  const c = session.config;
  const set = session.evalSet;
  if (c.kind === 'vit') {
    const n = set?.kind === 'images' ? Math.min(count, set.count) : 0;
    const images = Array.from({ length: n }, (_, index) => ({ index, ...evalImage(session, index) }));
    return {
      kind: 'images',
      images,
      size: c.imageSize,
      channels: c.numChannels,
      count: set?.kind === 'images' ? set.count : 0,
    };
  }
  return { kind: 'text', prompt: set?.kind === 'text' ? defaultPrompt(set.bytes) : '', context: sequenceLength(c) };
}

/** The eval text's first line, at most DEFAULT_PROMPT_BYTES bytes, ending after a space so the model starts a word. */
export function defaultPrompt(bytes: Uint8Array): string {
  const line = new TextDecoder('utf-8').decode(bytes.subarray(0, 4 * DEFAULT_PROMPT_BYTES)).split('\n')[0];
  let end = line.length;
  while (new TextEncoder().encode(line.slice(0, end)).length > DEFAULT_PROMPT_BYTES) end--;
  const space = line.lastIndexOf(' ', end - 1);
  return line.slice(0, end < line.length && space > 0 ? space + 1 : end);
}

/** The pruned model for `recipe`: masks the worker already holds when one matches, else pruned now (no evaluation). */
export async function prunedFor(
  pruner: Pruner,
  recipe: WorkbenchRecipe,
  known: (PrunedMasks | null)[],
  signal: AbortSignal,
): Promise<PrunedMasks> {
  const key = recipeKey(recipe);
  const session = pruner.session;
  const match = known.find((k) => k && k.key === key && k.session === session);
  if (match) return match;
  if (recipe.kind === 'unstructured') {
    const p = await pruner.prune(recipe.recipe, { signal });
    const pruned = { recipe: p.recipe, calibration: p.calibration, blockSparsity: p.split.blockSparsity };
    return { key, session, result: p.result, pruned };
  }
  const r = resolveStructuredRecipe(recipe.recipe, pruner.family);
  const calib = needsCalibration(r, pruner.family) ? await pruner.calibration(pruner.calibSpec(r)) : null;
  const plan = await planStructured(session.config, session.weights, calib, r, { signal });
  return { key, session, plan, pruned: { recipe: r, calibration: calib?.description ?? null } };
}

/** Runs `f` on the pruned model: unstructured masks multiplied into the weights, structured ones as forward masks. */
function withPrunedModel<T>(
  pruner: Pruner,
  m: PrunedMasks,
  f: (w: Weights, opts: InspectOptions) => Promise<T>,
): Promise<T> {
  if (m.result) return pruner.withPruned(m.result, (w) => f(w, {}));
  return f(pruner.session.weights, {
    masks: m.plan?.masks,
    tokenKeep: m.plan?.tokenKeep,
    tokenScoring: m.plan?.tokenScoring,
  });
}

/** The three views of one model for one input. */
async function views(
  session: ModelSession,
  weights: Weights,
  input: Uint8Array | number[],
  opts: InspectOptions,
  signal: AbortSignal,
  step: (label: string) => void,
): Promise<InspectView> {
  const c = session.config;
  const stoppable = { ...opts, signal };
  step('attention maps');
  const attention = await attentionMaps(c, weights, input, stoppable);
  signal.throwIfAborted();
  step('saliency');
  const sal = await saliency(c, weights, input, stoppable);
  signal.throwIfAborted();
  step(isCausalLm(c) ? 'next-byte predictions and a sampled continuation' : 'class probabilities');
  const preds = await predictions(c, weights, input, {
    ...stoppable,
    tokenizer: session.checkpoint.tokenizer,
    ...(isCausalLm(c) ? { continuation: CONTINUATION } : {}),
  });
  signal.throwIfAborted();
  return { attention, saliency: sal, predictions: preds };
}

/** The dense model's views of one input, kept so a new configuration need not compute them again. */
export interface DenseViews {
  session: ModelSession;
  /** The input's values (pixels or token ids). */
  key: string;
  view: InspectView;
}

/**
 * Inspects one input on the dense model (or takes its views from `cached` when they are of the same
 * input) and, when the request names a recipe, on the pruned one. Hands back the pruned masks and
 * the dense views it used, so the worker can keep them for the next request.
 */
export async function inspectInput(
  pruner: Pruner,
  request: InspectRequest,
  known: (PrunedMasks | null)[],
  cached: DenseViews | null,
  signal: AbortSignal,
  onProgress: ProgressFn,
): Promise<{ result: InspectResult; pruned: PrunedMasks | null; dense: DenseViews }> {
  const session = pruner.session;
  const { input, shown } = resolveInput(session, request.source);
  const key = `${session.config.kind}:${Array.from(input).join(',')}`;
  const reuse = cached && cached.session === session && cached.key === key ? cached : null;
  const steps = (reuse ? 0 : 3) + (request.recipe ? 4 : 0);
  let done = 0;
  const stage = (model: string) => (what: string) =>
    onProgress({ label: `Inspecting the ${model} model: ${what}`, fraction: done++ / steps });
  const dense = reuse ?? {
    session,
    key,
    view: await views(session, session.weights, input, {}, signal, stage('dense')),
  };
  if (!request.recipe) return { result: { input: shown, dense: dense.view, pruned: null }, pruned: null, dense };
  onProgress({ label: 'Pruning for the comparison', fraction: done++ / steps });
  const masks = await prunedFor(pruner, request.recipe, known, signal);
  signal.throwIfAborted();
  const pruned = await withPrunedModel(pruner, masks, (w, opts) =>
    views(session, w, input, opts, signal, stage('pruned')),
  );
  onProgress({ label: 'Inspected', fraction: 1 });
  return { result: { input: shown, dense: dense.view, pruned }, pruned: masks, dense };
}
