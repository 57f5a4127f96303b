// LoRA adapters: PEFT's initialisation, which linears are adapted, and merging — a merged model
// computes what the adapter computes beside the frozen layer, and stays masked where pruned.
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import type { ModelConfig } from '../model/config';
import { forward } from '../model/forward';
import { linearSpecs } from '../model/schema';
import { maxAbsDiff, randomArray, randomHostWeights, tinyGpt2, tinyLlama, tinyVit } from '../model/tiny-models';
import type { LinearOverride, Weights } from '../model/types';
import { toTfWeights } from '../model/weights';
import { disposeLora, disposeMerged, initLora, type LoraAdapters, loraLinears, loraTargets, mergeLora } from './lora';

/** B filled with seeded values, so the update is not zero. */
function withRandomB(adapters: LoraAdapters, seed: number): void {
  let i = 0;
  for (const pair of adapters.layers.values()) {
    const b = pair.b;
    pair.b = tf.tensor(randomArray(b.size, seed + i++, 0.5), b.shape);
    b.dispose();
  }
}

/** The adapter beside the frozen layer, as PEFT's forward runs it: x·Wᵀ + (alpha / r)·(x·Aᵀ)·Bᵀ. */
function adapterLinears(config: ModelConfig, weights: Weights, adapters: LoraAdapters): LinearOverride {
  const specs = new Map(linearSpecs(config).map((s) => [s.weight, s]));
  return {
    matmul(name, x) {
      const pair = adapters.layers.get(name);
      if (!pair) return null;
      const spec = specs.get(name)!;
      const base = tf.matMul(x, weights.get(name)! as tf.Tensor2D, false, spec.layout === 'out_in');
      const low = tf.matMul(tf.matMul(x, pair.a as tf.Tensor2D, false, true), pair.b as tf.Tensor2D, false, true);
      return tf.add(base, tf.mul(low, adapters.alpha / adapters.rank)) as tf.Tensor2D;
    },
  };
}

const tokensInput = () =>
  tf.tensor2d(
    Int32Array.from({ length: 12 }, (_, i) => (i * 5) % 37),
    [2, 6],
    'int32',
  );

describe('LoRA', () => {
  it('initialises A Kaiming-uniform within ±1/√in and B at zero, the same for a seed', async () => {
    const config = tinyGpt2();
    const targets = loraTargets(config, { rank: 3, alpha: 6 });
    const a = initLora(targets, { rank: 3, alpha: 6 }, 5);
    const b = initLora(targets, { rank: 3, alpha: 6 }, 5);
    const c = initLora(targets, { rank: 3, alpha: 6 }, 6);
    for (const spec of targets) {
      const pair = a.layers.get(spec.weight)!;
      expect(pair.a.shape).toEqual([3, spec.inFeatures]);
      expect(pair.b.shape).toEqual([spec.outFeatures, 3]);
      const values = await pair.a.data();
      const bound = 1 / Math.sqrt(spec.inFeatures);
      expect(Math.max(...values.map(Math.abs))).toBeLessThanOrEqual(bound);
      // Spread over the interval, not bunched near zero.
      expect(Math.max(...values.map(Math.abs))).toBeGreaterThan(bound / 2);
      expect(Array.from(await pair.b.data()).every((v) => v === 0)).toBe(true);
      expect(Array.from(await b.layers.get(spec.weight)!.a.data())).toEqual(Array.from(values));
      expect(Array.from(await c.layers.get(spec.weight)!.a.data())).not.toEqual(Array.from(values));
    }
    [a, b, c].forEach(disposeLora);
  });

  it('adapts the linears pruned weight by weight by default, else every block linear', () => {
    const config = tinyGpt2();
    const pruned = 'transformer.h.1.mlp.c_fc.weight';
    const mask = tf.ones([16, 24]);
    const byMask = loraTargets(config, { rank: 2, alpha: 2 }, { weights: new Map([[pruned, mask]]) });
    expect(byMask.map((s) => s.weight)).toEqual([pruned]);
    const structured = loraTargets(
      config,
      { rank: 2, alpha: 2 },
      {
        heads: [
          [1, 0],
          [1, 1],
        ],
      },
    );
    expect(structured.length).toBe(8);
    const chosen = loraTargets(config, {
      rank: 2,
      alpha: 2,
      targets: ['transformer.h.1.attn.c_proj.weight', 'transformer.h.0.attn.c_attn.weight'],
    });
    expect(chosen.map((s) => s.weight)).toEqual([
      'transformer.h.0.attn.c_attn.weight',
      'transformer.h.1.attn.c_proj.weight',
    ]);
    expect(() => loraTargets(config, { rank: 2, alpha: 2, targets: ['transformer.ln_f.weight'] })).toThrow(
      /not a linear layer/,
    );
    expect(() =>
      loraTargets(tinyVit(), { rank: 2, alpha: 2, targets: ['vit.embeddings.patch_embeddings.projection.weight'] }),
    ).toThrow(/convolution/);
    mask.dispose();
  });

  it('with B = 0 the merged model is the base model', async () => {
    const config = tinyGpt2();
    const weights = toTfWeights(randomHostWeights(config, 2));
    const adapters = initLora(loraTargets(config, { rank: 4, alpha: 8 }), { rank: 4, alpha: 8 }, 1);
    const merged = mergeLora(config, weights, adapters);
    const x = tokensInput();
    const a = forward(config, weights, x).logits;
    const b = forward(config, merged, x).logits;
    expect(Array.from(await b.data())).toEqual(Array.from(await a.data()));
    disposeMerged(merged, adapters);
    disposeLora(adapters);
    tf.dispose([a, b, x, ...weights.values()]);
  });

  for (const [name, config] of [
    ['GPT-2 (Conv1D, stored [in, out])', tinyGpt2()],
    ['Llama (nn.Linear, stored [out, in])', tinyLlama()],
  ] as const) {
    it(`merged into dense weights, computes what the adapter beside the layer computes: ${name}`, async () => {
      const weights = toTfWeights(randomHostWeights(config, 3));
      const settings = { rank: 3, alpha: 5 };
      const adapters = initLora(loraTargets(config, settings), settings, 2);
      withRandomB(adapters, 40);
      const merged = mergeLora(config, weights, adapters);
      const x = tokensInput();
      const viaMerge = forward(config, merged, x).logits;
      const viaAdapter = forward(config, weights, x, { linears: adapterLinears(config, weights, adapters) }).logits;
      const plain = forward(config, weights, x).logits;
      const [m, ad, p] = await Promise.all([viaMerge.data(), viaAdapter.data(), plain.data()]);
      expect(maxAbsDiff(m, ad)).toBeLessThan(1e-5);
      expect(maxAbsDiff(m, p)).toBeGreaterThan(1e-2);
      disposeMerged(merged, adapters);
      disposeLora(adapters);
      tf.dispose([viaMerge, viaAdapter, plain, x, ...weights.values()]);
    });
  }

  it('merged into a pruned weight, stays 0 where the mask removed it', async () => {
    const config = tinyGpt2();
    const weights = toTfWeights(randomHostWeights(config, 4));
    const name = 'transformer.h.0.mlp.c_proj.weight';
    const maskData = Float32Array.from(randomArray(24 * 16, 9), (v) => (v > 0 ? 1 : 0));
    const mask = tf.tensor2d(maskData, [24, 16]);
    const settings = { rank: 2, alpha: 4 };
    const adapters = initLora(loraTargets(config, settings, { weights: new Map([[name, mask]]) }), settings, 3);
    withRandomB(adapters, 7);
    const merged = mergeLora(config, weights, adapters, new Map([[name, mask]]));
    const w = await merged.get(name)!.data();
    const base = await weights.get(name)!.data();
    let changed = 0;
    maskData.forEach((m, i) => {
      if (m === 0) expect(w[i]).toBe(0);
      else if (w[i] !== base[i]) changed++;
    });
    expect(changed).toBeGreaterThan(maskData.filter((m) => m === 1).length / 2);
    disposeMerged(merged, adapters);
    disposeLora(adapters);
    tf.dispose([mask, ...weights.values()]);
  });

  for (const [name, config, weight] of [
    ['GPT-2 (Conv1D, stored [in, out])', tinyGpt2(), 'transformer.h.0.mlp.c_proj.weight'],
    ['Llama (nn.Linear, stored [out, in])', tinyLlama(), 'model.layers.0.mlp.down_proj.weight'],
  ] as const) {
    it(`trains through a product equal to the masked merge's, with its gradients: ${name}`, async () => {
      const weights = toTfWeights(randomHostWeights(config, 6));
      const w = weights.get(weight)!;
      const mask = tf.tensor(
        Uint8Array.from(randomArray(w.size, 12), (v) => (v > 0 ? 1 : 0)),
        w.shape,
        'bool',
      );
      const masks = new Map([[weight, mask]]);
      const settings = { rank: 3, alpha: 7, targets: [weight] };
      const adapters = initLora(loraTargets(config, settings), settings, 4);
      withRandomB(adapters, 21);
      const spec = linearSpecs(config).find((s) => s.weight === weight)!;
      const pair = adapters.layers.get(weight)!;
      const x0 = tf.tensor2d(randomArray(5 * spec.inFeatures, 14), [5, spec.inFeatures]);
      const probe = tf.tensor2d(randomArray(5 * spec.outFeatures, 13), [5, spec.outFeatures]);
      const adapted = (a: tf.Tensor, b: tf.Tensor) => ({ ...adapters, layers: new Map([[weight, { a, b }]]) });
      // The reference: the merged weight's product, differentiated by the tape through every op.
      const viaMerge = (x: tf.Tensor, a: tf.Tensor, b: tf.Tensor) => {
        const merged = mergeLora(config, weights, adapted(a, b), masks).get(weight)!;
        return tf.matMul(x as tf.Tensor2D, merged as tf.Tensor2D, false, spec.layout === 'out_in');
      };
      const viaLinears = (x: tf.Tensor, a: tf.Tensor, b: tf.Tensor) =>
        loraLinears(config, weights, adapted(a, b), masks).matmul(weight, x as tf.Tensor2D)!;
      const before = tf.memory().numTensors;
      const loss = (product: typeof viaMerge) => (x: tf.Tensor, a: tf.Tensor, b: tf.Tensor) =>
        tf.sum(tf.mul(product(x, a, b), probe));
      const expected = tf.grads(loss(viaMerge))([x0, pair.a, pair.b]);
      const got = tf.grads(loss(viaLinears))([x0, pair.a, pair.b]);
      const [y1, y2] = tf.tidy(() => [viaMerge(x0, pair.a, pair.b), viaLinears(x0, pair.a, pair.b)]);
      expect(maxAbsDiff(await y2.data(), await y1.data())).toBeLessThan(1e-5);
      for (let i = 0; i < 3; i++) {
        expect(got[i].shape).toEqual(expected[i].shape);
        expect(maxAbsDiff(await got[i].data(), await expected[i].data())).toBeLessThan(1e-5);
      }
      tf.dispose([...expected, ...got, y1, y2]);
      expect(tf.memory().numTensors).toBe(before);
      disposeLora(adapters);
      tf.dispose([mask, probe, x0, ...weights.values()]);
    });
  }
});
