// Whole-model unstructured pruning on tiny checkpoints: densities, scopes, calibration (one-shot and
// block by block, each checked against a direct computation), SparseGPT, Taylor's accumulated score.
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { forward } from '../model/forward';
import { collectActivationStats } from './block-calibration';
import { collectGradients, exampleLossSum, makeCalibration, batchTensors } from './calibration';
import type { MethodId } from './catalogue';
import { collectStats, prunableLinears, pruneUnstructured } from './unstructured';
import { randomHostWeights, tinyGpt2, tinyVit } from '../model/tiny-models';
import { toTfWeights } from '../model/weights';
import { byteLevelTokenizerJson, loadTokenizer } from '../model/tokenizer';
import type { DataSet } from '../data/datasets';
import { randomScores } from './random';

const gpt = { ...tinyGpt2(), vocabSize: 256 };
const host = randomHostWeights(gpt, 3);
const weights = toTfWeights(host);
const text: DataSet = {
  kind: 'text',
  bytes: new TextEncoder().encode('In the beginning God created the heaven and the earth. '.repeat(8)),
};
const sets = { train: text, heldOut: text, tokenizer: loadTokenizer(byteLevelTokenizerJson()) };
const count = (m: Uint8Array) => m.reduce((a, v) => a + v, 0);

describe('pruning a model', () => {
  it('every method reaches the requested density in every layer', async () => {
    const calib = makeCalibration(gpt, { source: 'train', count: 4, seed: 1 }, sets);
    const methods: [MethodId, 'sequential' | 'one-shot' | undefined][] = [
      ['magnitude', undefined],
      ['random', undefined],
      ['wanda', 'one-shot'],
      ['wanda', 'sequential'],
      ['taylor', undefined],
      ['taylor-mean', undefined],
      ['sparsegpt', 'sequential'],
      ['sparsegpt', 'one-shot'],
    ];
    for (const [method, calibrationMode] of methods) {
      const recipe = { method, sparsity: 0.5, calibrationMode };
      const stats = await collectStats(gpt, weights, recipe, calib);
      const r = await pruneUnstructured(gpt, host, recipe, calib, stats, { weights });
      for (const spec of prunableLinears(gpt)) {
        const m = r.masks.get(spec.weight)!;
        expect(count(m), `${method} ${spec.weight}`).toBe(m.length / 2);
      }
      expect(r.weights !== null).toBe(method === 'sparsegpt');
    }
  });

  it('a global threshold keeps exactly the requested share of all prunable weights', async () => {
    const r = await pruneUnstructured(gpt, host, { method: 'magnitude', sparsity: 0.7, scope: 'global' }, null, {});
    const total = prunableLinears(gpt).reduce((a, s) => a + s.inFeatures * s.outFeatures, 0);
    const kept = [...r.masks.values()].reduce((a, m) => a + count(m), 0);
    expect(kept).toBe(Math.round(0.3 * total));
    // Layers differ: global magnitude does not prune every layer equally.
    const densities = [...r.masks.values()].map((m) => count(m) / m.length);
    expect(Math.max(...densities) - Math.min(...densities)).toBeGreaterThan(0.01);
  });

  it('2:4 holds in the input dimension of a Conv1D [in, out] weight', async () => {
    const r = await pruneUnstructured(gpt, host, { method: 'magnitude', sparsity: 0.5, nm: { n: 2, m: 4 } }, null, {});
    const spec = prunableLinears(gpt)[0]; // c_attn [16, 48]
    const m = r.masks.get(spec.weight)!;
    for (let o = 0; o < spec.outFeatures; o++) {
      for (let g = 0; g < spec.inFeatures; g += 4) {
        let k = 0;
        for (let i = g; i < g + 4; i++) k += m[i * spec.outFeatures + o];
        expect(k).toBe(2);
      }
    }
  });

  it('per-block sparsities from an allocation are honoured', async () => {
    const r = await pruneUnstructured(
      gpt,
      host,
      { method: 'magnitude', sparsity: 0.5, blockSparsity: [0.25, 0.75] },
      null,
      {},
    );
    for (const spec of prunableLinears(gpt)) {
      const m = r.masks.get(spec.weight)!;
      expect(count(m) / m.length).toBeCloseTo(spec.layer === 0 ? 0.75 : 0.25, 2);
    }
  });

  it('calibration windows of a byte-level text start at seeded byte offsets, as the reference code draws them', () => {
    const c = makeCalibration(gpt, { source: 'train', count: 5, seed: 3 }, sets);
    if (c.kind !== 'lm') throw new Error('text model');
    const bytes = text.bytes;
    const t = c.length;
    const rand = randomScores(10, 3 + 17);
    for (let i = 0; i < 5; i++) {
      const off = Math.floor(rand[i] * (bytes.length - t));
      expect(Array.from(c.windows.subarray(i * (t + 1), (i + 1) * (t + 1)))).toEqual(
        Array.from(bytes.subarray(off, off + t + 1)),
      );
    }
    expect(c.description).toMatch(new RegExp(`in the train text \\(${bytes.length} bytes\\)$`));
  });

  it('calibration says what it used and follows the chosen source', () => {
    const a = makeCalibration(gpt, { source: 'train', count: 3, seed: 2 }, sets);
    expect(a.description).toMatch(/3 windows of 16 tokens .* train text/);
    const r = makeCalibration(gpt, { source: 'random', count: 3, seed: 2 }, sets);
    expect(r.description).toMatch(/random tokens/);
    expect(() => makeCalibration(gpt, { source: 'custom', count: 3 }, sets)).toThrow(/no custom data/);
    const vit = tinyVit();
    const imgs: DataSet = {
      kind: 'images',
      pixels: new Uint8Array(3 * 128).fill(7),
      labels: Uint8Array.from([0, 1, 2]),
      count: 3,
      shape: [2, 8, 8],
    };
    const c = makeCalibration(vit, { source: 'train', count: 5 }, { train: imgs, heldOut: null, tokenizer: null });
    expect(c.description).toMatch(/5 train images \(the set has 3; some repeat\)/);
    expect(() =>
      makeCalibration(vit, { source: 'train', count: 2 }, { train: text, heldOut: null, tokenizer: null }),
    ).toThrow(/reads images/);
  });

  it('input statistics sum over every calibration token', async () => {
    const calib = makeCalibration(gpt, { source: 'train', count: 5, seed: 3 }, sets);
    const a = await collectActivationStats(gpt, weights, calib, { batchSize: 2 });
    const b = await collectActivationStats(gpt, weights, calib, { batchSize: 5 });
    expect(a.tokens).toBe(5 * 16);
    const name = 'transformer.h.1.mlp.c_proj.weight';
    a.sqSum.get(name)!.forEach((v, i) => {
      expect(v).toBeCloseTo(b.sqSum.get(name)![i], 3);
    });
  });

  it('input statistics from the block loop equal those of one whole forward pass', async () => {
    const calib = makeCalibration(gpt, { source: 'train', count: 3, seed: 4 }, sets);
    const loop = await collectActivationStats(gpt, weights, calib, { gram: true });
    const { input } = batchTensors(gpt, calib, 0, 3);
    const direct = forward(gpt, weights, input, { capture: { activationStats: true, activationGram: true } });
    for (const spec of prunableLinears(gpt)) {
      const sq = await direct.activationSqSum![spec.weight].data();
      const gram = await direct.activationGram![spec.weight].data();
      expect(Math.max(...loop.sqSum.get(spec.weight)!.map((v, i) => Math.abs(v - sq[i])))).toBeLessThan(1e-3);
      expect(Math.max(...loop.gram.get(spec.weight)!.map((v, i) => Math.abs(v - gram[i])))).toBeLessThan(1e-3);
    }
    tf.dispose([
      input,
      direct.logits,
      ...Object.values(direct.activationSqSum!),
      ...Object.values(direct.activationGram!),
    ]);
  });

  it('sequential Wanda calibrates each block on the pruned blocks before it, as a direct computation does', async () => {
    const calib = makeCalibration(gpt, { source: 'train', count: 4, seed: 5 }, sets);
    const recipe = { method: 'wanda' as const, sparsity: 0.5 };
    const seq = await pruneUnstructured(
      gpt,
      host,
      { ...recipe, calibrationMode: 'sequential' },
      calib,
      {},
      { weights },
    );
    const oneShotStats = await collectStats(gpt, weights, { ...recipe, calibrationMode: 'one-shot' }, calib);
    const one = await pruneUnstructured(gpt, host, { ...recipe, calibrationMode: 'one-shot' }, calib, oneShotStats);
    const block = (l: number) => prunableLinears(gpt).filter((s) => s.layer === l);
    // Block 0 sees the embeddings either way.
    for (const spec of block(0)) expect(seq.masks.get(spec.weight)).toEqual(one.masks.get(spec.weight));
    // Block 1, directly: the model with block 0 pruned by those masks, its inputs' statistics, Wanda per row.
    const pruned0 = new Map(weights);
    const made: tf.Tensor[] = [];
    for (const spec of block(0)) {
      const w = host.get(spec.weight)!;
      const m = seq.masks.get(spec.weight)!;
      const t = tf.tensor(
        w.data.map((v, i) => v * m[i]),
        w.shape,
      );
      made.push(t);
      pruned0.set(spec.weight, t);
    }
    const afterPruning = await collectActivationStats(gpt, pruned0, calib);
    const expected = await pruneUnstructured(gpt, host, { ...recipe, calibrationMode: 'one-shot' }, calib, {
      sqSum: afterPruning.sqSum,
    });
    for (const spec of block(1)) expect(seq.masks.get(spec.weight)).toEqual(expected.masks.get(spec.weight));
    const differs = block(1).some(
      (spec) => count(seq.masks.get(spec.weight)!.map((v, i) => v ^ one.masks.get(spec.weight)![i])) > 0,
    );
    expect(differs).toBe(true);
    tf.dispose(made);
  });

  it('Taylor accumulates (w·g)² over examples, each example its own gradient; the mean-gradient score is |w·ḡ|', async () => {
    const calib = makeCalibration(gpt, { source: 'train', count: 3, seed: 6 }, sets);
    const name = 'transformer.h.0.mlp.c_fc.weight';
    const perExample: Float32Array[] = [];
    for (let x = 0; x < 3; x++) {
      const { input, targets } = batchTensors(gpt, calib, x, x + 1);
      const g = tf.grads((w: tf.Tensor) => {
        const local = new Map(weights).set(name, w);
        return exampleLossSum(gpt, forward(gpt, local, input, { oneHotEmbedding: true }).logits, targets, 1);
      })([weights.get(name)!])[0];
      perExample.push((await g.data()) as Float32Array);
      tf.dispose([input, targets!, g]);
    }
    const w = host.get(name)!.data;
    const accumulated = w.map((v, i) => perExample.reduce((a, g) => a + (v * g[i]) ** 2, 0));
    const meanGrad = w.map((_, i) => perExample.reduce((a, g) => a + g[i], 0) / 3);
    const squared = await collectGradients(gpt, weights, calib, [name], 'squaredSum');
    const mean = await collectGradients(gpt, weights, calib, [name], 'mean');
    const got = squared.get(name)!.map((g2, i) => w[i] * w[i] * g2);
    const scale = Math.max(...accumulated);
    expect(Math.max(...got.map((v, i) => Math.abs(v - accumulated[i])))).toBeLessThan(1e-4 * scale);
    const gm = mean.get(name)!;
    expect(Math.max(...gm.map((v, i) => Math.abs(v - meanGrad[i])))).toBeLessThan(1e-5);
  });
});
