// The TensorFlow.js forward passes against the plain-TypeScript reference twin, on tiny random
// checkpoints of each architecture, with and without every kind of mask.
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { forward } from './forward';
import { referenceForward, type ReferenceMasks } from './reference';
import { randomArray, randomHostWeights, tinyGpt2, tinyVit, maxAbsDiff } from './tiny-models';
import { toTfWeights } from './weights';
import type { ModelMasks } from './types';
import type { Gpt2Config, VitConfig } from './config';

const TOL = 1e-4;

/** The same masks for both implementations: some weights zeroed, a head, a neuron, a sublayer. */
function masksFor(c: Gpt2Config | VitConfig, host: ReturnType<typeof randomHostWeights>, weightName: string) {
  const shape = host.get(weightName)!.shape;
  const n = shape.reduce((a, b) => a * b, 1);
  const wm = Float32Array.from(randomArray(n, 99), (v) => (v > 0 ? 1 : 0));
  const layers = c.kind === 'gpt2' ? c.nLayer : c.numLayers;
  const heads = c.kind === 'gpt2' ? c.nHead : c.numHeads;
  const inner = c.kind === 'gpt2' ? c.nInner : c.intermediateSize;
  const ref: ReferenceMasks = {
    weights: new Map([[weightName, wm]]),
    heads: Array.from({ length: layers }, (_, l) =>
      Array.from({ length: heads }, (_, h) => (l === 0 && h === 1 ? 0 : 1)),
    ),
    neurons: Array.from({ length: layers }, (_, l) =>
      Array.from({ length: inner }, (_, j) => (l === 1 && j % 3 === 0 ? 0 : 1)),
    ),
    attention: Array.from({ length: layers }, (_, l) => l !== 1),
    mlp: Array.from({ length: layers }, () => true),
  };
  const tfMasks: ModelMasks = { ...ref, weights: new Map([[weightName, tf.tensor(wm, shape)]]) };
  return { ref, tfMasks };
}

describe('GPT-2 forward', () => {
  const config = tinyGpt2();
  const host = randomHostWeights(config, 1);
  const weights = toTfWeights(host);
  const ids = [3, 36, 0, 17, 5, 5, 22, 9, 1, 30, 12];

  it('matches the reference: logits and every attention map', async () => {
    const ref = referenceForward(config, host, ids);
    const out = forward(config, weights, tf.tensor2d([ids], [1, ids.length], 'int32'), {
      capture: { attention: true },
    });
    expect(out.logits.shape).toEqual([1, ids.length, config.vocabSize]);
    expect(maxAbsDiff(await out.logits.data(), ref.logits.flat())).toBeLessThan(TOL);
    for (let l = 0; l < config.nLayer; l++) {
      expect(maxAbsDiff(await out.attention![l].data(), ref.attention[l].flat(2))).toBeLessThan(TOL);
    }
    // Causality: no probability on a future position.
    const a0 = (await out.attention![0].array()) as number[][][][];
    expect(a0[0][0][2][5]).toBe(0);
  });

  it('matches the reference under weight, head, neuron and sublayer masks', async () => {
    const { ref, tfMasks } = masksFor(config, host, 'transformer.h.0.mlp.c_fc.weight');
    const expected = referenceForward(config, host, ids, ref).logits.flat();
    const out = forward(config, weights, tf.tensor2d([ids], [1, ids.length], 'int32'), { masks: tfMasks });
    const unmasked = referenceForward(config, host, ids).logits.flat();
    expect(maxAbsDiff(expected, unmasked)).toBeGreaterThan(1e-2); // the masks do change the output
    expect(maxAbsDiff(await out.logits.data(), expected)).toBeLessThan(TOL);
  });

  it('embeds by one-hot exactly as by gather', async () => {
    const x = tf.tensor2d([ids], [1, ids.length], 'int32');
    const a = await forward(config, weights, x).logits.data();
    const b = await forward(config, weights, x, { oneHotEmbedding: true }).logits.data();
    expect(maxAbsDiff(a, b)).toBeLessThan(1e-5);
  });

  it('hands back hidden states and activation statistics', async () => {
    const x = tf.tensor2d([ids, ids.slice().reverse()], [2, ids.length], 'int32');
    const out = forward(config, weights, x, { capture: { hidden: true, activationStats: true } });
    expect(out.hiddenIn).toHaveLength(config.nLayer);
    expect(out.hiddenOut![0].shape).toEqual([2, ids.length, config.nEmbd]);
    // Block l's output is block l+1's input.
    expect(maxAbsDiff(await out.hiddenOut![0].data(), await out.hiddenIn![1].data())).toBe(0);
    const stats = out.activationSqSum!;
    expect(Object.keys(stats)).toHaveLength(4 * config.nLayer);
    expect(stats['transformer.h.1.mlp.c_proj.weight'].shape).toEqual([config.nInner]);
    // Σ x² over both sequences of the first block's c_attn input equals ln_1(h) squared and summed:
    // non-negative and positive for every feature.
    const s = await stats['transformer.h.0.attn.c_attn.weight'].data();
    expect(Math.min(...s)).toBeGreaterThan(0);
  });

  it('captures the same statistics when only they are read, without the FFN output products', async () => {
    const x = tf.tensor2d([ids, ids.slice().reverse()], [2, ids.length], 'int32');
    const capture = { activationStats: true, activationGram: true };
    const full = forward(config, weights, x, { capture });
    const products = (statisticsOnly: boolean) => {
      let out: ReturnType<typeof forward> | undefined;
      return tf
        .profile(() => {
          out = forward(config, weights, x, { capture, statisticsOnly });
          return out.logits;
        })
        .then((p) => ({ out: out!, n: p.kernels.filter((k) => /Linear|MatMul/.test(k.name)).length }));
    };
    const [dense, only] = [await products(false), await products(true)];
    // One product fewer per block: the FFN output layer's.
    expect(dense.n - only.n).toBe(config.nLayer);
    // The first block's statistics are the same (a block run alone is what it is for: later blocks
    // see the zeros).
    for (const key of ['activationSqSum', 'activationGram'] as const) {
      const names = Object.keys(full[key]!);
      expect(Object.keys(only.out[key]!).sort()).toEqual(names.sort());
      for (const name of names.filter((n) => n.startsWith('transformer.h.0.')))
        expect(Array.from(await only.out[key]![name].data())).toEqual(Array.from(await full[key]![name].data()));
    }
  });

  it('frees each step’s intermediates as the pass goes, keeping what it captures', async () => {
    const x = tf.tensor2d(
      Array.from({ length: 8 * config.nPositions }, (_, i) => (i * 7) % config.vocabSize),
      [8, config.nPositions],
      'int32',
    );
    const start = tf.memory().numBytes;
    let out: ReturnType<typeof forward> | undefined;
    const profile = await tf.profile(() => {
      out = forward(config, weights, x, { capture: { attention: true, activationStats: true } });
      return out.logits;
    });
    const allocated = profile.kernels.reduce((sum, k) => sum + Math.max(0, k.bytesAdded), 0);
    // At its peak the pass holds less than half of what one block allocates over its course.
    expect(profile.peakBytes - start).toBeLessThan(allocated / config.nLayer / 2);
    expect(out!.attention!.every((a) => !a.isDisposed)).toBe(true);
    expect(Object.values(out!.activationSqSum!).every((a) => !a.isDisposed)).toBe(true);
  });

  it('rejects more tokens than the context holds', () => {
    const long = tf.zeros([1, config.nPositions + 1], 'int32') as tf.Tensor2D;
    expect(() => forward(config, weights, long)).toThrow(/exceed the context/);
  });
});

describe('ViT forward', () => {
  const config = tinyVit();
  const host = randomHostWeights(config, 2);
  const weights = toTfWeights(host);
  const pixels = randomArray(config.numChannels * config.imageSize ** 2, 7, 1);

  it('matches the reference: logits and every attention map', async () => {
    const ref = referenceForward(config, host, pixels);
    const out = forward(config, weights, tf.tensor4d(pixels, [1, 2, 8, 8]), { capture: { attention: true } });
    expect(out.logits.shape).toEqual([1, 5]);
    expect(maxAbsDiff(await out.logits.data(), ref.logits.flat())).toBeLessThan(TOL);
    for (let l = 0; l < config.numLayers; l++) {
      expect(out.attention![l].shape).toEqual([1, 3, 5, 5]);
      expect(maxAbsDiff(await out.attention![l].data(), ref.attention[l].flat(2))).toBeLessThan(TOL);
    }
  });

  it('matches the reference under weight, head, neuron and sublayer masks', async () => {
    const { ref, tfMasks } = masksFor(config, host, 'vit.encoder.layer.0.attention.attention.value.weight');
    const expected = referenceForward(config, host, pixels, ref).logits.flat();
    const out = forward(config, weights, tf.tensor4d(pixels, [1, 2, 8, 8]), { masks: tfMasks });
    expect(maxAbsDiff(await out.logits.data(), expected)).toBeLessThan(TOL);
  });

  it('classifies each image of a batch independently', async () => {
    const other = randomArray(pixels.length, 8, 1);
    const batch = new Float32Array([...pixels, ...other]);
    const out = await forward(config, weights, tf.tensor4d(batch, [2, 2, 8, 8])).logits.data();
    const ref2 = referenceForward(config, host, other).logits.flat();
    expect(maxAbsDiff(out.slice(5), ref2)).toBeLessThan(TOL);
  });

  it('rejects images of the wrong size', () => {
    expect(() => forward(config, weights, tf.zeros([1, 2, 9, 9]) as tf.Tensor4D)).toThrow(/expected images/);
  });
});
