// Head importance: shapes, sanity properties, Taylor against finite differences, and masks.
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import type { ModelConfig } from '../../model/config';
import type { HostTensor } from '../../model/checkpoint';
import { forward } from '../../model/forward';
import { randomHostWeights, tinyGpt2, tinyVit } from '../../model/tiny-models';
import { toTfWeights } from '../../model/weights';
import { batchTensors, makeCalibration } from '../calibration';
import { headMaskFromScores, headScores, headStatistics } from './heads';
import { keptPerLayer, normalizePerLayer } from './select';

const noSets = { train: null, heldOut: null, tokenizer: null };

/** Zeroes the value projection (weights and bias) of one head: it then writes exactly nothing. */
function silenceHeadValues(
  config: ModelConfig,
  host: Map<string, HostTensor>,
  layer: number,
  head: number,
): Map<string, HostTensor> {
  const out = new Map(host);
  const d = config.kind === 'gpt2' ? config.nEmbd : config.hiddenSize;
  const dh = d / (config.kind === 'gpt2' ? config.nHead : config.numHeads);
  const edit = (name: string, f: (data: Float32Array) => void) => {
    const t = host.get(name)!;
    const data = t.data.slice();
    f(data);
    out.set(name, { shape: t.shape, data });
  };
  if (config.kind === 'gpt2') {
    const p = `transformer.h.${layer}.attn.c_attn`; // [d, 3d], value columns 2d + h·dh + e
    edit(`${p}.weight`, (w) => {
      for (let i = 0; i < d; i++) for (let e = 0; e < dh; e++) w[i * 3 * d + 2 * d + head * dh + e] = 0;
    });
    edit(`${p}.bias`, (b) => {
      for (let e = 0; e < dh; e++) b[2 * d + head * dh + e] = 0;
    });
  } else {
    const p = `vit.encoder.layer.${layer}.attention.attention.value`; // [d, d] out_in, rows h·dh + e
    edit(`${p}.weight`, (w) => w.fill(0, head * dh * d, (head + 1) * dh * d));
    edit(`${p}.bias`, (b) => b.fill(0, head * dh, (head + 1) * dh));
  }
  return out;
}

describe('head scores', () => {
  for (const config of [tinyGpt2(), tinyVit()] as ModelConfig[]) {
    const heads = config.kind === 'gpt2' ? 2 : 3;
    const host = silenceHeadValues(config, randomHostWeights(config, 3), 1, 1);
    const weights = toTfWeights(host);
    const calib = makeCalibration(config, { source: 'random', count: 5, seed: 2 }, noSets);

    it(`${config.kind}: every method gives [layer][head]; a silent head scores 0 on norm and Taylor`, async () => {
      for (const method of ['norm', 'taylor', 'entropy'] as const) {
        const s = await headScores(config, weights, calib, method, { batchSize: 2 });
        expect(s.length).toBe(2);
        s.forEach((row) => {
          expect(row.length).toBe(heads);
        });
        s.flat().forEach((v) => {
          expect(Number.isFinite(v)).toBe(true);
        });
        if (method !== 'entropy') {
          expect(s[1][1]).toBe(0);
          expect(Math.min(...s[0])).toBeGreaterThan(0);
        }
      }
    });

    it(`${config.kind}: masked heads and removed sublayers score lowest`, async () => {
      const masks = {
        heads: [Array.from({ length: heads }, (_, h) => (h === 0 ? 0 : 1)), Array(heads).fill(1)],
        attention: [true, false],
      };
      const norm = await headScores(config, weights, calib, 'norm', { masks });
      const ent = await headScores(config, weights, calib, 'entropy', { masks });
      const tay = await headScores(config, weights, calib, 'taylor', { masks });
      expect([norm[0][0], tay[0][0], ...norm[1], ...tay[1]].every((v) => v === 0)).toBe(true);
      expect([ent[0][0], ...ent[1]].every((v) => v === -Infinity)).toBe(true);
      expect(ent[0][1]).toBeGreaterThan(-Infinity);
    });
  }

  it('ViT: a head with zero queries attends uniformly: entropy log T, the least important by entropy', async () => {
    const config = tinyVit(); // 5 tokens
    const host = new Map(randomHostWeights(config, 4));
    const q = host.get('vit.encoder.layer.0.attention.attention.query.weight')!;
    const qb = host.get('vit.encoder.layer.0.attention.attention.query.bias')!;
    const w = q.data.slice();
    w.fill(0, 2 * 4 * 12, 3 * 4 * 12); // head 2 rows
    const b = qb.data.slice();
    b.fill(0, 8, 12);
    host.set('vit.encoder.layer.0.attention.attention.query.weight', { shape: q.shape, data: w });
    host.set('vit.encoder.layer.0.attention.attention.query.bias', { shape: qb.shape, data: b });
    const calib = makeCalibration(config, { source: 'random', count: 3, seed: 5 }, noSets);
    const stats = await headStatistics(config, toTfWeights(host), calib);
    expect(stats.tokens).toBe(15);
    expect(stats.entropy[0][2]).toBeCloseTo(Math.log(5), 5);
    const imp = await headScores(config, toTfWeights(host), calib, 'entropy');
    expect(imp[0].indexOf(Math.min(...imp[0]))).toBe(2);
  });

  it("Taylor is Michel et al.'s E|∂L(x)/∂ξ_h|: per-example gates match finite differences", async () => {
    const config = tinyGpt2();
    const weights = toTfWeights(randomHostWeights(config, 6));
    const calib = makeCalibration(config, { source: 'random', count: 3, seed: 7 }, noSets);
    const scores = await headScores(config, weights, calib, 'taylor', { batchSize: 2 });
    // Loss of example i (mean next-token cross-entropy) with one gate ξ on head (l, h).
    const loss = (i: number, l: number, h: number, xi: number) =>
      tf.tidy(() => {
        const { input, targets } = batchTensors(config, calib, i, i + 1);
        const gates = [0, 1].map((ll) => tf.tensor1d([0, 1].map((hh) => (ll === l && hh === h ? xi : 1))));
        const logits = tf.reshape(forward(config, weights, input, { headGates: gates }).logits, [-1, config.vocabSize]);
        return tf
          .neg(tf.mean(tf.sum(tf.mul(tf.oneHot(targets!, config.vocabSize), tf.logSoftmax(logits)), -1)))
          .dataSync()[0];
      });
    const eps = 1e-2;
    for (const [l, h] of [
      [0, 0],
      [1, 1],
    ]) {
      let expected = 0;
      for (let i = 0; i < 3; i++) expected += Math.abs((loss(i, l, h, 1 + eps) - loss(i, l, h, 1 - eps)) / (2 * eps));
      expect(scores[l][h]).toBeCloseTo(expected / 3, 3);
    }
  });
});

describe('head masks', () => {
  const scores = [
    [0.5, 0.1, 0.9, 0.3],
    [0.05, 0.02, 0.04, 0.01],
    [2, 3, 1, 4],
  ];

  it('per layer: the same count everywhere, the lowest scores', () => {
    const m = headMaskFromScores(scores, { ratio: 0.5 }, 'layer');
    expect(m).toEqual([
      [1, 0, 1, 0],
      [1, 0, 1, 0],
      [0, 1, 0, 1],
    ]);
  });

  it('globally: the lowest scores anywhere, but never a whole layer below ratio 1', () => {
    const m = headMaskFromScores(scores, { ratio: 0.5 }, 'global');
    // Layer 1 keeps its best head (0.05); the next-lowest go instead: 0.1, 0.3, 0.5 of layer 0.
    expect(keptPerLayer(m)).toEqual([1, 1, 4]);
    expect(m[1]).toEqual([1, 0, 0, 0]);
    expect(keptPerLayer(headMaskFromScores(scores, { ratio: 0.99 }, 'global'))).toEqual([1, 1, 1]);
    expect(keptPerLayer(headMaskFromScores(scores, { ratio: 0.99 }, 'layer'))).toEqual([1, 1, 1]);
    expect(keptPerLayer(headMaskFromScores(scores, { ratio: 1 }, 'global'))).toEqual([0, 0, 0]);
    expect(keptPerLayer(headMaskFromScores(scores, { ratio: 0 }, 'global'))).toEqual([4, 4, 4]);
    // Normalising per layer first lets layer 1's relative ranking compete on equal terms.
    const n = headMaskFromScores(normalizePerLayer(scores), { ratio: 0.5 }, 'global');
    expect(keptPerLayer(n).reduce((a, v) => a + v, 0)).toBe(6);
  });

  it('explicit counts per layer, ties to the later head, NaN first to go', () => {
    expect(headMaskFromScores(scores, { perLayer: [0, 4, 1] })).toEqual([
      [1, 1, 1, 1],
      [0, 0, 0, 0],
      [1, 1, 0, 1],
    ]);
    expect(headMaskFromScores([[1, 1, 1, NaN]], { perLayer: [2] })).toEqual([[1, 1, 0, 0]]);
    expect(() => headMaskFromScores(scores, { perLayer: [5, 0, 0] })).toThrow(/cannot remove/);
  });
});
