// Recovery on tiny models: pruned weights exactly 0 after every update, removed structure
// untouched, the loss falling on a problem small enough to overfit, distillation, LoRA, seeds,
// progress, cancellation that keeps the best weights, and no tensor left behind.
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { evaluateLm } from '../eval/metrics';
import type { ModelConfig } from '../model/config';
import { prunableLinears } from '../pruning/unstructured';
import { randomArray, randomHostWeights, tinyGpt2, tinyVit } from '../model/tiny-models';
import type { Weights } from '../model/types';
import { toTfWeights } from '../model/weights';
import type { CalibrationData } from '../pruning/calibration';
import { applyMask } from './mask';
import { lmTrainingWindows, trainingBatches } from './batches';
import { type RecoveryInput, type RecoveryProgress, type RecoveryResult, recover } from './recover';

const gpt = tinyGpt2();
// A text with structure to learn: a short cycle of tokens, cut into windows of 8.
const tokens = Int32Array.from({ length: 120 }, (_, i) => [3, 14, 15, 9, 26, 5, 35][i % 7]);
const windows = lmTrainingWindows(tokens, 8);

/** Half of every prunable weight removed, at seeded positions. */
function halfMasks(config: ModelConfig, seed: number): Map<string, tf.Tensor> {
  return new Map(
    prunableLinears(config).map((spec, i) => {
      const shape =
        spec.layout === 'in_out' ? [spec.inFeatures, spec.outFeatures] : [spec.outFeatures, spec.inFeatures];
      const r = randomArray(spec.inFeatures * spec.outFeatures, seed + i);
      return [
        spec.weight,
        tf.tensor(
          Float32Array.from(r, (v) => (v > 0 ? 1 : 0)),
          shape,
        ),
      ];
    }),
  );
}

const valuesOf = (w: Weights, name: string) => Array.from(w.get(name)!.dataSync());

function freeResult(r: RecoveryResult): void {
  tf.dispose([...r.weights.values()]);
  if (r.adapters) for (const { a, b } of r.adapters.layers.values()) tf.dispose([a, b]);
}

const base = (over: Partial<RecoveryInput['settings']> = {}): RecoveryInput['settings'] => ({
  mode: { kind: 'finetune' },
  steps: 4,
  learningRate: 1e-2,
  warmupSteps: 1,
  seed: 1,
  ...over,
});

describe('recovery after pruning', () => {
  it('fine-tunes the kept weights: pruned ones exactly 0 after every update, the loss falling, nothing leaked', async () => {
    const weights = toTfWeights(randomHostWeights(gpt, 1));
    const masks = halfMasks(gpt, 10);
    const fixed = trainingBatches(windows, 4, 1)(0);
    const before = tf.memory().numTensors;
    let checked = 0;
    const result = await recover({
      config: gpt,
      weights,
      masks: { weights: masks },
      batches: () => fixed,
      settings: base({ steps: 30, warmupSteps: 3 }),
      evaluate: {
        run: async (w) => (await evaluateLm(gpt, w, tokens, tokens.length, { context: 8, maxWindows: 4 })).loss,
        higherIsBetter: false,
      },
      afterStep: (_, w) => {
        for (const [name, mask] of masks) {
          const m = mask.dataSync();
          const v = w.get(name)!.dataSync();
          for (let i = 0; i < m.length; i++)
            if (m[i] === 0 && !Object.is(v[i], 0)) throw new Error(`${name}[${i}] = ${v[i]}`);
          checked++;
        }
      },
    });
    expect(checked).toBe(30 * masks.size);
    expect(result.stepsDone).toBe(30);
    expect(result.aborted).toBe(false);
    const losses = result.lossCurve.map((p) => p.value);
    expect(losses[losses.length - 1]).toBeLessThan(0.5 * losses[0]);
    expect(result.metricAfter!).toBeLessThan(result.metricBefore!);
    // The same names and shapes as the input, masked.
    expect([...result.weights.keys()]).toEqual([...weights.keys()]);
    for (const [name, w] of weights) expect(result.weights.get(name)!.shape).toEqual(w.shape);
    for (const [name, mask] of masks) {
      const m = mask.dataSync();
      valuesOf(result.weights, name).forEach((v, i) => {
        if (m[i] === 0) expect(v).toBe(0);
      });
    }
    freeResult(result);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([...weights.values(), ...masks.values()]);
  });

  it('leaves removed heads, neurons and sublayers as they were', async () => {
    const weights = toTfWeights(randomHostWeights(gpt, 2));
    const neurons = [Array.from({ length: 24 }, (_, j) => (j === 5 ? 0 : 1)), Array(24).fill(1)];
    const result = await recover({
      config: gpt,
      weights,
      masks: {
        heads: [
          [1, 0],
          [1, 1],
        ],
        neurons,
        mlp: [true, false],
      },
      batches: trainingBatches(windows, 2, 1),
      settings: base({ steps: 3 }),
    });
    const same = (name: string, pick: (i: number) => boolean = () => true) => {
      const a = valuesOf(weights, name);
      const b = valuesOf(result.weights, name);
      return a.every((v, i) => !pick(i) || v === b[i]);
    };
    // Block 1's FFN is removed: all of it unchanged; block 1's attention trained.
    for (const n of ['mlp.c_fc.weight', 'mlp.c_fc.bias', 'mlp.c_proj.weight', 'ln_2.weight'])
      expect(same(`transformer.h.1.${n}`)).toBe(true);
    expect(same('transformer.h.1.attn.c_attn.weight')).toBe(false);
    // Neuron 5 of block 0: its c_fc column and bias, its c_proj row; the rest trained.
    expect(same('transformer.h.0.mlp.c_fc.weight', (i) => i % 24 === 5)).toBe(true);
    expect(same('transformer.h.0.mlp.c_fc.bias', (i) => i === 5)).toBe(true);
    expect(same('transformer.h.0.mlp.c_proj.weight', (i) => Math.floor(i / 16) === 5)).toBe(true);
    expect(same('transformer.h.0.mlp.c_fc.weight')).toBe(false);
    // Head 1 of block 0 (columns 8–15 of each of q, k, v; rows 8–15 of the output projection).
    const head1 = (i: number) => Math.floor(((i % 48) % 16) / 8) === 1;
    expect(same('transformer.h.0.attn.c_attn.weight', head1)).toBe(true);
    expect(same('transformer.h.0.attn.c_proj.weight', (i) => Math.floor(i / 16) >= 8)).toBe(true);
    expect(same('transformer.h.0.attn.c_attn.weight')).toBe(false);
    freeResult(result);
    tf.dispose([...weights.values()]);
  });

  it('distilling a model into itself starts at zero loss, its weights or LoRA adapters (B = 0) trained', async () => {
    const weights = toTfWeights(randomHostWeights(gpt, 3));
    const distill = { teacher: weights, temperature: 2, hiddenWeight: 1 };
    for (const mode of [
      { kind: 'distill' as const, ...distill },
      { kind: 'lora' as const, rank: 2, alpha: 2, distill },
    ]) {
      const result = await recover({
        config: gpt,
        weights,
        batches: trainingBatches(windows, 2, 1),
        settings: base({ steps: 1, mode }),
      });
      expect(Math.abs(result.lossCurve[0].value)).toBeLessThan(1e-5);
      freeResult(result);
    }
    tf.dispose([...weights.values()]);
  });

  it('LoRA: base weights frozen, adapters on the pruned linears, merged and masked; the same for a seed', async () => {
    const weights = toTfWeights(randomHostWeights(gpt, 4));
    const all = halfMasks(gpt, 20);
    const pruned = ['transformer.h.0.attn.c_attn.weight', 'transformer.h.1.mlp.c_proj.weight'];
    const masks = new Map(pruned.map((n) => [n, all.get(n)!]));
    const run = (seed: number) =>
      recover({
        config: gpt,
        weights,
        masks: { weights: masks },
        batches: trainingBatches(windows, 4, 7),
        settings: base({ steps: 5, seed, learningRate: 2e-2, mode: { kind: 'lora', rank: 2, alpha: 4 } }),
      });
    const before = tf.memory().numTensors;
    const a = await run(1);
    const b = await run(1);
    const c = await run(2);
    expect(a.lossCurve).toEqual(b.lossCurve);
    expect(c.lossCurve).not.toEqual(a.lossCurve);
    expect([...a.adapters!.layers.keys()]).toEqual(pruned);
    expect(a.adapters!.layers.get(pruned[0])!.a.shape).toEqual([2, 16]);
    expect(a.adapters!.layers.get(pruned[0])!.b.shape).toEqual([48, 2]);
    for (const [name, w] of weights) {
      const got = valuesOf(a.weights, name);
      expect(got).toEqual(valuesOf(b.weights, name));
      const mask = masks.get(name)?.dataSync();
      if (!mask) expect(got).toEqual(Array.from(w.dataSync()));
      else {
        expect(got.every((v, i) => mask[i] !== 0 || Object.is(v, 0))).toBe(true);
        const start = applyMask(w, masks.get(name)!);
        expect(got).not.toEqual(Array.from(start.dataSync()));
        start.dispose();
      }
    }
    [a, b, c].forEach(freeResult);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([...weights.values(), ...all.values()]);
  });

  it('reports the loss every logEvery updates and the metric every evalEvery, the last always', async () => {
    const weights = toTfWeights(randomHostWeights(gpt, 5));
    const seen: RecoveryProgress[] = [];
    let calls = 0;
    const result = await recover({
      config: gpt,
      weights,
      batches: trainingBatches(windows, 2, 1),
      settings: base({ steps: 5, logEvery: 2, evalEvery: 2 }),
      evaluate: { run: async () => ++calls, higherIsBetter: true },
      onProgress: (p) => seen.push(p),
    });
    expect(seen.map((p) => `${p.kind}@${p.step}`)).toEqual([
      'metric@0',
      'loss@2',
      'metric@2',
      'loss@4',
      'metric@4',
      'loss@5',
      'metric@5',
    ]);
    expect(result.metricCurve).toEqual([
      { step: 0, value: 1 },
      { step: 2, value: 2 },
      { step: 4, value: 3 },
      { step: 5, value: 4 },
    ]);
    expect([result.metricBefore, result.metricAfter]).toEqual([1, 4]);
    freeResult(result);
    tf.dispose([...weights.values()]);
  });

  it('on abort returns the best weights measured so far, or the latest when none were', async () => {
    const weights = toTfWeights(randomHostWeights(gpt, 6));
    const probe = 'transformer.h.0.mlp.c_fc.weight';
    const metrics = [1.0, 0.9, 0.5, 0.7, 0.8, 0.6, 0.1];
    for (const evaluated of [true, false]) {
      const controller = new AbortController();
      const snapshots = new Map<number, number[]>();
      const before = tf.memory().numTensors;
      let calls = 0;
      const result = await recover({
        config: gpt,
        weights,
        batches: trainingBatches(windows, 2, 1),
        settings: base({ steps: 20, evalEvery: 1 }),
        evaluate: evaluated ? { run: async () => metrics[calls++], higherIsBetter: false } : undefined,
        afterStep: (step, w) => {
          snapshots.set(step, valuesOf(w, probe));
          if (step === 5) controller.abort();
        },
        signal: controller.signal,
      });
      expect(result.aborted).toBe(true);
      expect(result.stepsDone).toBe(5);
      const step = evaluated ? 2 : 5;
      expect(result.step).toBe(step);
      expect(result.metricAfter).toBe(evaluated ? 0.5 : null);
      expect(valuesOf(result.weights, probe)).toEqual(snapshots.get(step));
      freeResult(result);
      expect(tf.memory().numTensors).toBe(before);
    }
    tf.dispose([...weights.values()]);
  });

  it('trains a ViT on labelled images; unlabelled ones need distillation', async () => {
    const vit = tinyVit();
    const weights = toTfWeights(randomHostWeights(vit, 7));
    const count = 8;
    const pixels = Uint8Array.from(randomArray(count * 2 * 8 * 8, 3), (v) => Math.floor((v + 1) * 127));
    const labelled: CalibrationData = {
      kind: 'images',
      description: 'eight images',
      count,
      pixels,
      labels: Uint8Array.from({ length: count }, (_, i) => i % 5),
    };
    const fixed = trainingBatches(labelled, count, 1)(0);
    const trained = await recover({
      config: vit,
      weights,
      batches: () => fixed,
      settings: base({ steps: 15 }),
    });
    const losses = trained.lossCurve.map((p) => p.value);
    expect(losses[losses.length - 1]).toBeLessThan(0.5 * losses[0]);
    freeResult(trained);

    const unlabelled: CalibrationData = { ...labelled, labels: null };
    const before = tf.memory().numTensors;
    await expect(
      recover({ config: vit, weights, batches: trainingBatches(unlabelled, 4, 1), settings: base() }),
    ).rejects.toThrow(/needs labelled examples/);
    expect(tf.memory().numTensors).toBe(before);
    const distilled = await recover({
      config: vit,
      weights,
      masks: { weights: halfMasks(vit, 3) },
      batches: trainingBatches(unlabelled, 4, 1),
      settings: base({ mode: { kind: 'distill', teacher: weights, temperature: 1 } }),
    });
    expect(distilled.lossCurve[0].value).toBeGreaterThan(0);
    freeResult(distilled);
    tf.dispose([...weights.values()]);
  });

  it('refuses settings it cannot honour', async () => {
    const weights = toTfWeights(randomHostWeights(gpt, 8));
    const run = (settings: RecoveryInput['settings']) =>
      recover({ config: gpt, weights, batches: trainingBatches(windows, 2, 1), settings });
    await expect(run(base({ steps: 0 }))).rejects.toThrow(/steps/);
    await expect(run(base({ learningRate: -1 }))).rejects.toThrow(/learning rate/);
    await expect(run(base({ mode: { kind: 'lora', rank: 0, alpha: 1 } }))).rejects.toThrow(/rank/);
    await expect(run(base({ mode: { kind: 'distill', teacher: weights, temperature: 0 } }))).rejects.toThrow(
      /temperature/,
    );
    tf.dispose([...weights.values()]);
  });
});
