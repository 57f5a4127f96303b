// Whole-model unstructured pruning on tiny checkpoints: densities, scopes, calibration, SparseGPT.
import { describe, expect, it } from 'vitest';
import { makeCalibration, collectActivationStats } from './calibration';
import type { MethodId } from './catalogue';
import { collectStats, prunableLinears, pruneUnstructured } from './unstructured';
import { randomHostWeights, tinyGpt2, tinyVit } from '../model/tiny-models';
import { toTfWeights } from '../model/weights';
import { byteLevelTokenizerJson, loadTokenizer } from '../model/tokenizer';
import type { DataSet } from '../data/datasets';

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
    for (const method of ['magnitude', 'random', 'wanda', 'taylor', 'sparsegpt'] as MethodId[]) {
      const stats = await collectStats(gpt, weights, method, calib);
      const r = await pruneUnstructured(gpt, host, { method, sparsity: 0.5 }, calib, stats);
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
});
