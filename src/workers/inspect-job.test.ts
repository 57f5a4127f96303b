// The worker's inspection job on tiny sessions: inputs resolve to the right pixels or tokens (and bad
// ones get clear messages), the pruned view uses the masks the worker holds when the recipe matches and
// prunes otherwise, token pruning leaves no gradient × input, and nothing leaks.
import * as tf from '@tensorflow/tfjs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { attentionMaps, predictClasses } from '../engine/eval/inspect';
import { Pruner } from '../engine/eval/pruner';
import { writeSafetensors } from '../engine/io/safetensors';
import { serializeWeights } from '../engine/model/checkpoint';
import { parseConfig, type VitConfig } from '../engine/model/config';
import {
  randomHostWeights,
  tinyGpt2,
  tinyVit,
  TINY_GPT2_CONFIG,
  TINY_LLAMA_CONFIG,
  TINY_VIT_CONFIG,
} from '../engine/model/tiny-models';
import { byteLevelTokenizerJson } from '../engine/model/tokenizer';
import { ModelSession } from '../engine/session';
import type { InspectRequest, Progress, WorkbenchRecipe } from './api';
import {
  CONTINUATION,
  defaultPrompt,
  evalInputs,
  INSPECT_MAX_TOKENS,
  inspectInput,
  prunedFor,
  resolveInput,
  type PrunedMasks,
} from './inspect-job';

const vit = tinyVit();
const per = vit.numChannels * vit.imageSize * vit.imageSize;
const images = (n: number, seed: number) => {
  const pixels = Uint8Array.from({ length: n * per }, (_, i) => (i * 31 + seed * 7) % 256);
  const labels = Uint8Array.from({ length: n }, (_, i) => (i + seed) % 5);
  return writeSafetensors({
    images: { dtype: 'U8', shape: [n, vit.numChannels, vit.imageSize, vit.imageSize], data: pixels },
    labels: { dtype: 'U8', shape: [n], data: labels },
  });
};
const vitSession = ModelSession.open({
  config: TINY_VIT_CONFIG,
  weights: serializeWeights(randomHostWeights(vit, 3)),
  evalSet: images(6, 0),
  calibSet: images(8, 1),
});
const vitPruner = new Pruner(vitSession);

const text = (s: string) => {
  const bytes = new TextEncoder().encode(s);
  return writeSafetensors({ bytes: { dtype: 'U8', shape: [bytes.length], data: bytes } });
};
const gptSession = ModelSession.open({
  config: { ...TINY_GPT2_CONFIG, vocab_size: 256 },
  weights: serializeWeights(randomHostWeights({ ...tinyGpt2(), vocabSize: 256 }, 5)),
  tokenizer: byteLevelTokenizerJson(),
  evalSet: text(
    'And Abraham journeyed from thence toward the south country, and dwelled between Kadesh and Shur.\nAnd Abraham said',
  ),
  calibSet: text('In the beginning God created the heaven and the earth. '.repeat(4)),
});
const gptPruner = new Pruner(gptSession);

const calibration = { source: 'train' as const, count: 4, seed: 0 };
const heads = (amount: number): WorkbenchRecipe => ({
  kind: 'structured',
  recipe: { granularity: 'heads', amount, scope: 'global', calibration },
});
const live = () => new AbortController().signal;
const quiet = () => {};
const removedHeads = (v: { attention: { layers: { heads: { removed: boolean }[] }[] } }) =>
  v.attention.layers.map((l) => l.heads.map((h) => h.removed));

let before = 0;
beforeEach(() => {
  before = tf.memory().numTensors;
});
afterEach(() => {
  expect(tf.memory().numTensors).toBe(before);
});

describe('inputs', () => {
  it('eval images resolve to their own pixels and label; the picker lists the first ones', () => {
    const r = resolveInput(vitSession, { kind: 'eval-image', index: 2 });
    const set = vitSession.evalSet!;
    if (set.kind !== 'images' || r.shown.kind !== 'image') throw new Error('expected images');
    expect(Array.from(r.shown.pixels)).toEqual(Array.from(set.pixels.subarray(2 * per, 3 * per)));
    expect(r.shown.label).toBe(vit.labels[set.labels[2]]);
    const offered = evalInputs(vitSession, 4);
    expect(offered.kind === 'images' && offered.images.map((i) => [i.index, i.label])).toEqual(
      [0, 1, 2, 3].map((i) => [i, vit.labels[set.labels[i]]]),
    );
    expect(offered.kind === 'images' && offered.count).toBe(6);
  });

  it('bad inputs get messages that say what is wrong', () => {
    expect(() => resolveInput(vitSession, { kind: 'eval-image', index: 6 })).toThrow(
      'eval image 6 does not exist: the eval set holds images 0 to 5',
    );
    expect(() => resolveInput(vitSession, { kind: 'eval-image', index: 1.5 })).toThrow(/does not exist/);
    expect(() => resolveInput(vitSession, { kind: 'pixels', pixels: new Uint8Array(784) })).toThrow(
      'a drawn image must have 128 pixels (8×8×2), got 784',
    );
    expect(() => resolveInput(vitSession, { kind: 'text', text: 'hi' })).toThrow(/classifies images/);
    expect(() => resolveInput(gptSession, { kind: 'eval-image', index: 0 })).toThrow(/reads text/);
    expect(() => resolveInput(gptSession, { kind: 'text', text: '' })).toThrow(/type some text/);
  });

  it('text keeps its last context-full of bytes, each shown visibly', () => {
    const long = 'In the beginning God created the heaven';
    const r = resolveInput(gptSession, { kind: 'text', text: long });
    if (r.shown.kind !== 'text') throw new Error('expected text');
    const context = tinyGpt2().nPositions;
    expect(r.input).toEqual(Array.from(new TextEncoder().encode(long.slice(-context))));
    expect(r.shown.croppedTokens).toBe(long.length - context);
    expect(r.shown.tokens.map((t) => t.display).join('')).toBe(long.slice(-context).replace(/ /g, '␣'));
  });

  it('a long text is inspected by its last INSPECT_MAX_TOKENS tokens when the context holds more', () => {
    const raw = { ...TINY_LLAMA_CONFIG, vocab_size: 256, max_position_embeddings: 4096 };
    const llama = ModelSession.open({
      config: raw,
      weights: serializeWeights(randomHostWeights(parseConfig(raw), 2)),
      tokenizer: byteLevelTokenizerJson(),
    });
    const long = 'x'.repeat(INSPECT_MAX_TOKENS + 40);
    const r = resolveInput(llama, { kind: 'text', text: long });
    if (r.shown.kind !== 'text') throw new Error('expected text');
    expect(r.input).toHaveLength(INSPECT_MAX_TOKENS);
    expect(r.shown.croppedTokens).toBe(40);
    llama.dispose();
  });

  it('the default prompt is the eval text’s first line, cut after a space', () => {
    expect(defaultPrompt(new TextEncoder().encode('a b\nc'))).toBe('a b');
    const p = defaultPrompt(new TextEncoder().encode(`${'word '.repeat(20)}\nnext`));
    expect(p).toBe('word '.repeat(12));
    expect(evalInputs(gptSession, 4)).toEqual({
      kind: 'text',
      prompt: 'And Abraham journeyed from thence toward the south country, and ',
      context: 16,
    });
  });
});

describe('inspectInput', () => {
  it('inspects the dense model alone without a recipe, on the requested image, reporting progress', async () => {
    const progress: Progress[] = [];
    const { result, pruned } = await inspectInput(
      vitPruner,
      { source: { kind: 'eval-image', index: 3 }, recipe: null },
      [],
      null,
      live(),
      (p) => progress.push(p),
    );
    expect(pruned).toBeNull();
    expect(result.pruned).toBeNull();
    const pixels = resolveInput(vitSession, { kind: 'eval-image', index: 3 }).input;
    const direct = await attentionMaps(vit, vitSession.weights, pixels);
    expect(result.dense.attention).toEqual(direct);
    expect(result.dense.saliency.gradientTimesInput).not.toBeNull();
    expect(result.dense.predictions.kind).toBe('image-classifier');
    expect(progress.map((p) => p.fraction)).toEqual([0, 1 / 3, 2 / 3]);
  });

  it('takes the dense views of the same input from the cache, and computes them for another input', async () => {
    const request: InspectRequest = { source: { kind: 'eval-image', index: 3 }, recipe: null };
    const first = await inspectInput(vitPruner, request, [], null, live(), quiet);
    const progress: Progress[] = [];
    const again = await inspectInput(vitPruner, { ...request, recipe: heads(0.34) }, [], first.dense, live(), (p) =>
      progress.push(p),
    );
    expect(again.result.dense).toBe(first.result.dense);
    expect(progress[0].label).toBe('Pruning for the comparison');
    const other = await inspectInput(
      vitPruner,
      { source: { kind: 'eval-image', index: 4 }, recipe: null },
      [],
      first.dense,
      live(),
      quiet,
    );
    expect(other.result.dense).not.toBe(first.result.dense);
    expect(other.dense.key).not.toBe(first.dense.key);
  });

  it('uses the masks the worker holds when the recipe matches: no pruning', async () => {
    const recipe = heads(0.5);
    // Masks no head score would choose, so the view can only have come from them.
    const held: PrunedMasks = {
      key: JSON.stringify(recipe),
      session: vitSession,
      plan: {
        masks: {
          heads: [
            [1, 1, 1],
            [0, 1, 1],
          ],
        },
        summary: 'held',
      },
    };
    const other: PrunedMasks = { ...held, session: gptSession };
    const { result, pruned } = await inspectInput(
      vitPruner,
      { source: { kind: 'eval-image', index: 0 }, recipe },
      [other, held],
      null,
      live(),
      quiet,
    );
    expect(pruned).toBe(held);
    expect(removedHeads(result.pruned!)).toEqual([
      [false, false, false],
      [true, false, false],
    ]);
    expect(removedHeads(result.dense)).toEqual([
      [false, false, false],
      [false, false, false],
    ]);
  });

  it('prunes without measuring when no held masks match, and the pruned view shows what was removed', async () => {
    const recipe = heads(0.34);
    const stale: PrunedMasks = {
      key: JSON.stringify(heads(0.5)),
      session: vitSession,
      plan: { masks: {}, summary: 'other' },
    };
    const { result, pruned } = await inspectInput(
      vitPruner,
      { source: { kind: 'eval-image', index: 0 }, recipe },
      [stale, null],
      null,
      live(),
      quiet,
    );
    expect(pruned!.key).toBe(JSON.stringify(recipe));
    expect(pruned!.plan!.masks.heads!.flat().filter((h) => h === 0)).toHaveLength(2);
    expect(removedHeads(result.pruned!).flat().filter(Boolean)).toHaveLength(2);
  });

  it('applies unstructured masks to the weights: the pruned predictions are the masked model’s', async () => {
    const recipe: WorkbenchRecipe = { kind: 'unstructured', recipe: { method: 'magnitude', sparsity: 0.9 } };
    const request: InspectRequest = { source: { kind: 'eval-image', index: 1 }, recipe };
    const { result, pruned } = await inspectInput(vitPruner, request, [], null, live(), quiet);
    const pixels = resolveInput(vitSession, request.source).input;
    const masked = await vitPruner.withPruned(pruned!.result!, (w) => predictClasses(vit as VitConfig, w, pixels));
    expect(Array.from(result.pruned!.predictions.probs)).toEqual(Array.from(masked.probs));
    expect(Array.from(result.pruned!.predictions.probs)).not.toEqual(Array.from(result.dense.predictions.probs));
  });

  it('under token pruning the pruned view has no gradient × input, only rollout', async () => {
    const recipe: WorkbenchRecipe = { kind: 'structured', recipe: { granularity: 'tokens', amount: 0.5 } };
    const { result } = await inspectInput(
      vitPruner,
      { source: { kind: 'eval-image', index: 0 }, recipe },
      [],
      null,
      live(),
      quiet,
    );
    expect(result.pruned!.saliency.gradientTimesInput).toBeNull();
    expect(result.pruned!.saliency.rollout.grid).toHaveLength(vit.imageSize / vit.patchSize);
    expect(result.dense.saliency.gradientTimesInput).not.toBeNull();
    expect(result.pruned!.attention.layers.map((l) => l.tokens)).toEqual([5, 3]);
  });

  it('text: next-byte predictions and a seeded continuation, the same on a second run', async () => {
    const request: InspectRequest = { source: { kind: 'text', text: 'And God said' }, recipe: null };
    const a = await inspectInput(gptPruner, request, [], null, live(), quiet);
    const b = await inspectInput(gptPruner, request, [], null, live(), quiet);
    const p = a.result.dense.predictions;
    if (p.kind !== 'causal-lm') throw new Error('expected next-byte predictions');
    expect(p.continuation!.ids).toHaveLength(CONTINUATION.steps);
    expect(b.result.dense.predictions).toEqual(p);
    expect(a.result.dense.saliency.rollout.normalized).toHaveLength('And God said'.length);
  });

  it('stops with an AbortError when cancelled', async () => {
    const c = new AbortController();
    c.abort();
    await expect(
      inspectInput(
        vitPruner,
        { source: { kind: 'eval-image', index: 0 }, recipe: heads(0.34) },
        [],
        null,
        c.signal,
        quiet,
      ),
    ).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('prunedFor prunes unstructured recipes by the pruner, keyed by the recipe', async () => {
    const recipe: WorkbenchRecipe = { kind: 'unstructured', recipe: { method: 'magnitude', sparsity: 0.5 } };
    const m = await prunedFor(gptPruner, recipe, [], live());
    expect(m.key).toBe(JSON.stringify(recipe));
    const kept = [...m.result!.masks.values()].reduce((a, mask) => a + mask.reduce((x, v) => x + v, 0), 0);
    const total = [...m.result!.masks.values()].reduce((a, mask) => a + mask.length, 0);
    expect(kept / total).toBeCloseTo(0.5, 2);
    // What recipe.json records of a configuration exported before it was measured: the measured path's words.
    const measured = await gptPruner.pruneAndMeasure(recipe.recipe);
    expect(m.pruned).toEqual({
      recipe: measured.report.recipe,
      calibration: measured.report.calibration,
      blockSparsity: expect.any(Array),
    });
  });

  it('prunedFor resolves structured recipes as the measured path does', async () => {
    const recipe: WorkbenchRecipe = { kind: 'structured', recipe: { granularity: 'heads', amount: 0.5 } };
    const m = await prunedFor(vitPruner, recipe, [], live());
    const measured = await vitPruner.pruneAndMeasureStructured(recipe.recipe);
    expect(m.pruned).toEqual({ recipe: measured.report.recipe, calibration: measured.report.calibration });
    expect(m.plan!.masks.heads).toEqual(measured.plan.masks.heads);
  });
});
