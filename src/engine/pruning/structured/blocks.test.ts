// Block similarity scores: an identity block, the definitions read directly, and block removal.
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { parseConfig, type Gpt2Config, type VitConfig } from '../../model/config';
import type { HostTensor } from '../../model/checkpoint';
import { forward } from '../../model/forward';
import { randomHostWeights, TINY_GPT2_CONFIG, TINY_VIT_CONFIG } from '../../model/tiny-models';
import { toTfWeights } from '../../model/weights';
import { batchTensors, makeCalibration } from '../calibration';
import { angularPerBlock, bestWindow, blockSimilarity, blocksToRemove, removalOrder } from './blocks';

const noSets = { train: null, heldOut: null, tokenizer: null };
const gpt = parseConfig({ ...TINY_GPT2_CONFIG, n_layer: 4 }) as Gpt2Config;
const vit = parseConfig({ ...TINY_VIT_CONFIG, num_hidden_layers: 3 }) as VitConfig;

/** Zeroes every output projection (weights and biases) of a block: it then passes h through unchanged. */
function identityBlock(host: Map<string, HostTensor>, names: string[]): Map<string, HostTensor> {
  const out = new Map(host);
  for (const n of names) out.set(n, { shape: host.get(n)!.shape, data: new Float32Array(host.get(n)!.data.length) });
  return out;
}
const gptOutputs = (l: number) =>
  ['attn.c_proj', 'mlp.c_proj'].flatMap((m) => [`transformer.h.${l}.${m}.weight`, `transformer.h.${l}.${m}.bias`]);
const vitOutputs = (l: number) =>
  ['attention.output.dense', 'output.dense'].flatMap((m) => [
    `vit.encoder.layer.${l}.${m}.weight`,
    `vit.encoder.layer.${l}.${m}.bias`,
  ]);

describe('block similarity', () => {
  it('an identity block has angular distance and influence 0 and is the first removed', async () => {
    const host = identityBlock(randomHostWeights(gpt, 5), gptOutputs(2));
    const calib = makeCalibration(gpt, { source: 'random', count: 3, seed: 1 }, noSets);
    const s = await blockSimilarity(gpt, toTfWeights(host), calib, { batchSize: 2 });
    expect(s.tokens).toBe(3 * 16);
    expect(s.angular[2][2]).toBe(0);
    expect(s.influence[2]).toBe(0);
    expect(Math.min(...angularPerBlock(s).filter((_, i) => i !== 2))).toBeGreaterThan(1e-3);
    expect(removalOrder(angularPerBlock(s))[0]).toBe(2);
    expect(removalOrder(s.influence)[0]).toBe(2);
    expect(blocksToRemove(s, 1, 'angular-window').removed).toEqual([2]);
    expect(blocksToRemove(s, 1, 'influence')).toEqual({
      removed: [2],
      attention: [true, true, false, true],
      mlp: [true, true, false, true],
    });
    // Through an identity block the distance of a window is that of the window without it.
    expect(s.angular[1][2]).toBeCloseTo(s.angular[1][1], 12);
    expect(s.angular[2][3]).toBeCloseTo(s.angular[3][3], 6);
    expect(Number.isNaN(s.angular[3][1])).toBe(true);

    const vhost = identityBlock(randomHostWeights(vit, 6), vitOutputs(1));
    const vcalib = makeCalibration(vit, { source: 'random', count: 2, seed: 2 }, noSets);
    const vs = await blockSimilarity(vit, toTfWeights(vhost), vcalib);
    expect(vs.tokens).toBe(2 * 5);
    expect(vs.angular[1][1]).toBe(0);
    expect(blocksToRemove(vs, 1, 'angular').removed).toEqual([1]);
  });

  it('equals arccos(cos)/π and 1 − cos read directly from the hidden states', async () => {
    const weights = toTfWeights(randomHostWeights(gpt, 7));
    const calib = makeCalibration(gpt, { source: 'random', count: 2, seed: 3 }, noSets);
    const out = forward(gpt, weights, batchTensors(gpt, calib, 0, 2).input, { capture: { hidden: true } });
    const hin = (await out.hiddenIn![1].array()) as number[][][];
    const hout = (await out.hiddenOut![2].array()) as number[][][];
    const cosines = hin.flatMap((seq, b) =>
      seq.map((x, t) => {
        const y = hout[b][t];
        const dot = x.reduce((a, v, i) => a + v * y[i], 0);
        return dot / Math.sqrt(x.reduce((a, v) => a + v * v, 0) * y.reduce((a, v) => a + v * v, 0));
      }),
    );
    const s = await blockSimilarity(gpt, weights, calib);
    expect(s.angular[1][2]).toBeCloseTo(cosines.reduce((a, c) => a + Math.acos(c) / Math.PI, 0) / cosines.length, 5);
    const last = await blockSimilarity(gpt, weights, calib, { position: 'final' });
    expect(last.tokens).toBe(2);
    const lastCos = [cosines[15], cosines[31]];
    expect(last.angular[1][2]).toBeCloseTo(lastCos.reduce((a, c) => a + Math.acos(c) / Math.PI, 0) / 2, 5);
    const hout1 = (await out.hiddenOut![1].array()) as number[][][];
    const bi = hin.flatMap((seq, b) =>
      seq.map((x, t) => {
        const y = hout1[b][t];
        return (
          1 -
          x.reduce((a, v, i) => a + v * y[i], 0) /
            Math.sqrt(x.reduce((a, v) => a + v * v, 0) * y.reduce((a, v) => a + v * v, 0))
        );
      }),
    );
    expect(s.influence[1]).toBeCloseTo(bi.reduce((a, v) => a + v, 0) / bi.length, 5);
    tf.dispose(Object.values(out).flat() as tf.Tensor[]);
  });

  it("Gromov et al.'s window: the n consecutive blocks whose ends are closest", () => {
    const angular = [
      [0.3, 0.4, 0.5, 0.6],
      [NaN, 0.1, 0.15, 0.45],
      [NaN, NaN, 0.12, 0.2],
      [NaN, NaN, NaN, 0.3],
    ];
    const s = { angular, influence: [0.3, 0.1, 0.12, 0.3], tokens: 1 };
    expect(bestWindow(s, 2)).toEqual({ start: 1, distance: 0.15 });
    expect(blocksToRemove(s, 3, 'angular-window').removed).toEqual([1, 2, 3]); // 0.45 < 0.5
    expect(bestWindow({ ...s, angular: angular.map((r) => r.map((v) => (v === 0.45 ? 0.5 : v))) }, 3).start).toBe(0); // ties: earliest
    expect(blocksToRemove(s, 2, 'angular').removed).toEqual([1, 2]);
    expect(blocksToRemove(s, 0, 'influence').removed).toEqual([]);
    expect(() => blocksToRemove(s, 5, 'influence')).toThrow();
  });
});
