import { describe, expect, it } from 'vitest';
import { Importance } from './importance';
import { Pruner } from './pruner';
import { ModelSession } from '../session';
import { serializeWeights } from '../model/checkpoint';
import { randomHostWeights, tinyVit, TINY_VIT_CONFIG } from '../model/tiny-models';
import { writeSafetensors } from '../io/safetensors';
import { keepCount, topKMask } from '../pruning/select';

const host = randomHostWeights(tinyVit(), 4);
const images = (n: number, seed: number) => ({
  images: {
    dtype: 'U8' as const,
    shape: [n, 2, 8, 8],
    data: Uint8Array.from({ length: n * 128 }, (_, i) => (i * seed * 31) % 256),
  },
  labels: { dtype: 'U8' as const, shape: [n], data: Uint8Array.from({ length: n }, (_, i) => i % 5) },
});
const session = ModelSession.open({
  config: TINY_VIT_CONFIG,
  weights: serializeWeights(host),
  evalSet: writeSafetensors(images(10, 3)),
  calibSet: writeSafetensors(images(12, 7)),
});
const calibration = { source: 'train' as const, count: 8 };

describe('Importance', () => {
  const imp = new Importance(new Pruner(session));
  const name = 'vit.encoder.layer.1.intermediate.dense.weight'; // [20, 12] as [out, in]

  it('gives per-weight scores of any layer in its stored layout', async () => {
    const mag = await imp.weightScores(name, 'magnitude');
    expect([...mag]).toEqual([...host.get(name)!.data].map(Math.abs));
    const wanda = await imp.weightScores(name, 'wanda', calibration);
    const taylor = await imp.weightScores(name, 'taylor', calibration);
    expect(wanda).toHaveLength(240);
    expect(taylor).toHaveLength(240);
    expect(wanda.every((v) => v >= 0) && taylor.every((v) => v >= 0)).toBe(true);
    await expect(imp.weightScores('vit.nope', 'magnitude')).rejects.toThrow(/no linear layer/);
  });

  it('gives the random scores the Pruner selected by, layer by layer', async () => {
    const pruner = new Pruner(session);
    const { result } = await pruner.prune({ method: 'random', sparsity: 0.5, seed: 3 });
    const scores = await new Importance(pruner).weightScores(name, 'random', undefined, { seed: 3 });
    expect([...result.masks.get(name)!]).toEqual([...topKMask(scores, keepCount(scores.length, 0.5))]);
  });

  it('gives head, neuron and block scores and sensitivity curves in one call each', async () => {
    expect((await imp.headScores('norm', calibration)).map((r) => r.length)).toEqual([3, 3]);
    expect((await imp.neuronScores('activation', calibration)).map((r) => r.length)).toEqual([20, 20]);
    const b = await imp.blockDistances(calibration);
    expect(b.angular).toHaveLength(2);
    expect(b.influence).toHaveLength(2);
    const curves = await imp.sensitivityCurves('magnitude', calibration);
    expect(curves).toHaveLength(2);
    // Every curve starts at the dense model's loss.
    expect(curves[0].losses[0]).toBe(curves[1].losses[0]);
    expect(curves[0].sparsities[0]).toBe(0);
  });
});
