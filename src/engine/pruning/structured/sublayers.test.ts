// FinerCut: greedy sublayer removal against a brute-force reading of each step.
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { parseConfig, type Gpt2Config, type ModelConfig, type VitConfig } from '../../model/config';
import type { HostTensor } from '../../model/checkpoint';
import { forward } from '../../model/forward';
import { randomHostWeights, TINY_GPT2_CONFIG, TINY_VIT_CONFIG } from '../../model/tiny-models';
import type { ModelMasks, Weights } from '../../model/types';
import { toTfWeights } from '../../model/weights';
import { batchTensors, makeCalibration, type CalibrationData } from '../calibration';
import { finerCut, type Sublayer } from './sublayers';

const noSets = { train: null, heldOut: null, tokenizer: null };
const gpt = parseConfig({ ...TINY_GPT2_CONFIG, n_layer: 3 }) as Gpt2Config;

function zeroed(host: Map<string, HostTensor>, names: string[]): Map<string, HostTensor> {
  const out = new Map(host);
  for (const n of names) out.set(n, { shape: host.get(n)!.shape, data: new Float32Array(host.get(n)!.data.length) });
  return out;
}

/** Mean KL(p_ref ‖ p) over every prediction, with both models run on the whole calibration set at once. */
async function meanKl(
  config: ModelConfig,
  weights: Weights,
  data: CalibrationData,
  removed: Sublayer[],
  base?: ModelMasks,
): Promise<number> {
  const layers = config.kind === 'gpt2' ? config.nLayer : config.numLayers;
  const attention = Array.from(
    { length: layers },
    (_, l) => base?.attention?.[l] !== false && !removed.some((s) => s.layer === l && s.kind === 'attention'),
  );
  const mlp = Array.from(
    { length: layers },
    (_, l) => base?.mlp?.[l] !== false && !removed.some((s) => s.layer === l && s.kind === 'mlp'),
  );
  const v = tf.tidy(() => {
    const { input } = batchTensors(config, data, 0, data.count);
    const flat = (t: tf.Tensor) => tf.logSoftmax(tf.reshape(t, [-1, t.shape[t.rank - 1]!]));
    const ref = flat(forward(config, weights, input, { masks: base }).logits);
    const p = flat(forward(config, weights, input, { masks: { ...base, attention, mlp } }).logits);
    return tf.mean(tf.sum(tf.mul(tf.exp(ref), tf.sub(ref, p)), -1));
  });
  const r = (await v.data())[0];
  v.dispose();
  return r;
}

describe('FinerCut', () => {
  it('removes a do-nothing sublayer first, then greedily the least output-changing one', async () => {
    // Block 1's attention writes nothing (zero output projection and bias).
    const host = zeroed(randomHostWeights(gpt, 3, 0.5), [
      'transformer.h.1.attn.c_proj.weight',
      'transformer.h.1.attn.c_proj.bias',
    ]);
    const weights = toTfWeights(host);
    const calib = makeCalibration(gpt, { source: 'random', count: 5, seed: 4 }, noSets);
    const fractions: number[] = [];
    const r = await finerCut(gpt, weights, calib, { count: 3, batchSize: 2, onProgress: (f) => fractions.push(f) });
    expect(r.order[0]).toEqual({ layer: 1, kind: 'attention', divergence: 0 });
    expect(fractions.at(-1)).toBeCloseTo(1, 12);
    expect(fractions.every((f, i) => i === 0 || f >= fractions[i - 1])).toBe(true);

    // Each later step is the argmin over the remaining candidates, and reports its KL.
    const all: Sublayer[] = [0, 1, 2].flatMap((layer) =>
      (['attention', 'mlp'] as const).map((kind) => ({ layer, kind })),
    );
    for (let step = 1; step < 3; step++) {
      const before = r.order.slice(0, step).map(({ layer, kind }) => ({ layer, kind }));
      const rest = all.filter((c) => !before.some((b) => b.layer === c.layer && b.kind === c.kind));
      const kls = [];
      for (const c of rest) kls.push(await meanKl(gpt, weights, calib, [...before, c]));
      const best = kls.indexOf(Math.min(...kls));
      expect({ layer: r.order[step].layer, kind: r.order[step].kind }).toEqual(rest[best]);
      expect(r.order[step].divergence).toBeCloseTo(kls[best], 5);
    }
    const removed = (l: number, k: string) => r.order.some((s) => s.layer === l && s.kind === k);
    expect(r.attention).toEqual([0, 1, 2].map((l) => !removed(l, 'attention')));
    expect(r.mlp).toEqual([0, 1, 2].map((l) => !removed(l, 'mlp')));
  });

  it('ViT, restricted to FFNs, starting from masks that already removed one', async () => {
    const vit = parseConfig({ ...TINY_VIT_CONFIG, num_hidden_layers: 3 }) as VitConfig;
    const weights = toTfWeights(randomHostWeights(vit, 5));
    const calib = makeCalibration(vit, { source: 'random', count: 6, seed: 5 }, noSets);
    const base = { mlp: [true, false, true] };
    const r = await finerCut(vit, weights, calib, { count: 2, kinds: ['mlp'], masks: base });
    expect(r.order.map((s) => s.kind)).toEqual(['mlp', 'mlp']);
    expect(r.mlp).toEqual([false, false, false]);
    expect(r.attention).toEqual([true, true, true]);
    expect(r.order[1].divergence).toBeCloseTo(await meanKl(vit, weights, calib, r.order, base), 5);
    await expect(finerCut(vit, weights, calib, { count: 3, kinds: ['mlp'], masks: base })).rejects.toThrow(
      /cannot remove 3 of 2/,
    );
  });

  it('stops when aborted', async () => {
    const weights = toTfWeights(randomHostWeights(gpt, 6));
    const calib = makeCalibration(gpt, { source: 'random', count: 2, seed: 6 }, noSets);
    const ctl = new AbortController();
    const run = finerCut(gpt, weights, calib, {
      count: 2,
      signal: ctl.signal,
      onProgress: (f) => f > 0.2 && ctl.abort(new Error('stop')),
    });
    await expect(run).rejects.toThrow('stop');
  });
});
