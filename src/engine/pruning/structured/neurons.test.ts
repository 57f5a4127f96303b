// FFN-neuron importance: shapes, dead and disconnected neurons, the definition read directly, masks.
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import type { ModelConfig } from '../../model/config';
import type { HostTensor } from '../../model/checkpoint';
import { activate } from '../../model/layers';
import { forward } from '../../model/forward';
import { randomHostWeights, tinyGpt2, tinyVit } from '../../model/tiny-models';
import { toTfWeights } from '../../model/weights';
import { batchTensors, makeCalibration } from '../calibration';
import { neuronMaskFromScores, neuronScores } from './neurons';
import { keptPerLayer } from './select';

const noSets = { train: null, heldOut: null, tokenizer: null };

function edit(host: Map<string, HostTensor>, name: string, f: (data: Float32Array, shape: number[]) => void) {
  const t = host.get(name)!;
  const data = t.data.slice();
  f(data, t.shape);
  host.set(name, { shape: t.shape, data });
}

/** Neuron `dead` of block 0 never fires (zero input weights and bias: gelu(0) = 0); neuron `mute` of block 1 writes nothing. */
function withDeadAndMute(config: ModelConfig, seed: number, dead: number, mute: number): Map<string, HostTensor> {
  const host = new Map(randomHostWeights(config, seed));
  if (config.kind === 'gpt2') {
    const inner = config.nInner;
    edit(host, 'transformer.h.0.mlp.c_fc.weight', (w, [d]) => {
      for (let i = 0; i < d; i++) w[i * inner + dead] = 0;
    });
    edit(host, 'transformer.h.0.mlp.c_fc.bias', (b) => (b[dead] = 0));
    edit(host, 'transformer.h.1.mlp.c_proj.weight', (w, [, d]) => w.fill(0, mute * d, (mute + 1) * d));
  } else {
    const inner = config.intermediateSize;
    edit(host, 'vit.encoder.layer.0.intermediate.dense.weight', (w, [, d]) => w.fill(0, dead * d, (dead + 1) * d));
    edit(host, 'vit.encoder.layer.0.intermediate.dense.bias', (b) => (b[dead] = 0));
    edit(host, 'vit.encoder.layer.1.output.dense.weight', (w, [d]) => {
      for (let o = 0; o < d; o++) w[o * inner + mute] = 0;
    });
  }
  return host;
}

describe('neuron scores', () => {
  for (const config of [tinyGpt2(), tinyVit()] as ModelConfig[]) {
    const inner = config.kind === 'gpt2' ? config.nInner : config.intermediateSize;
    const weights = toTfWeights(withDeadAndMute(config, 3, 5, 7));
    const calib = makeCalibration(config, { source: 'random', count: 4, seed: 2 }, noSets);

    it(`${config.kind}: [layer][neuron]; a dead or disconnected neuron scores 0 on both methods`, async () => {
      for (const method of ['activation', 'taylor'] as const) {
        const s = await neuronScores(config, weights, calib, method, { batchSize: 3 });
        expect(s.map((r) => r.length)).toEqual([inner, inner]);
        expect(s[0][5]).toBe(0);
        expect(s[1][7]).toBe(0);
        expect(s[0].filter((v) => v > 0).length).toBe(inner - 1);
      }
      const masked = await neuronScores(config, weights, calib, 'activation', {
        masks: { neurons: [Array(inner).fill(1), Array(inner).fill(0)], mlp: [false, true] },
      });
      expect([...masked[0], ...masked[1]].every((v) => v === 0)).toBe(true);
    });
  }

  it('GPT-2 activation score is ‖a_j‖₂ × ‖c_proj row j‖₂, read directly', async () => {
    const config = tinyGpt2();
    const host = randomHostWeights(config, 9);
    const weights = toTfWeights(host);
    const calib = makeCalibration(config, { source: 'random', count: 3, seed: 4 }, noSets);
    const s = await neuronScores(config, weights, calib, 'activation');
    // Block 0's FFN input is ln_2(h + attn(h)); take it from the captured block output minus the FFN.
    const direct = tf.tidy(() => {
      const { input } = batchTensors(config, calib, 0, 3);
      const out = forward(config, weights, input, { masks: { mlp: [false, true] }, capture: { hidden: true } });
      const h = out.hiddenOut![0]; // block 0 with its FFN off: h + attention
      const { mean, variance } = tf.moments(h, -1, true);
      const x = tf.add(
        tf.mul(
          tf.mul(tf.sub(h, mean), tf.rsqrt(tf.add(variance, config.layerNormEps))),
          weights.get('transformer.h.0.ln_2.weight')!,
        ),
        weights.get('transformer.h.0.ln_2.bias')!,
      );
      const a = activate(
        config.activation,
        tf.add(
          tf.matMul(tf.reshape(x, [-1, 16]), weights.get('transformer.h.0.mlp.c_fc.weight')!),
          weights.get('transformer.h.0.mlp.c_fc.bias')!,
        ),
      );
      const col = tf.sqrt(tf.sum(tf.square(weights.get('transformer.h.0.mlp.c_proj.weight')!), 1));
      return tf.mul(tf.sqrt(tf.sum(tf.square(a), 0)), col).arraySync() as number[];
    });
    direct.forEach((v, j) => {
      expect(s[0][j]).toBeCloseTo(v, 4);
    });
  });
});

describe('neuron Taylor', () => {
  it('is E_x |Σ_tokens a_j ∂L(x)/∂a_j|: per-example gates match finite differences', async () => {
    const config = tinyVit();
    const weights = toTfWeights(randomHostWeights(config, 10));
    const calib = makeCalibration(config, { source: 'random', count: 3, seed: 8 }, noSets);
    const scores = await neuronScores(config, weights, calib, 'taylor', { batchSize: 2 });
    // Unlabelled images: the target is the model's own prediction, fixed at ξ = 1.
    const labels = tf.tidy(
      () =>
        tf.argMax(forward(config, weights, batchTensors(config, calib, 0, 3).input).logits, -1).arraySync() as number[],
    );
    const loss = (i: number, l: number, j: number, xi: number) =>
      tf.tidy(() => {
        const gates = [0, 1].map((ll) =>
          tf.tensor1d(Array.from({ length: 20 }, (_, jj) => (ll === l && jj === j ? xi : 1))),
        );
        const logits = forward(config, weights, batchTensors(config, calib, i, i + 1).input, {
          neuronGates: gates,
        }).logits;
        return -tf.logSoftmax(logits).dataSync()[labels[i]];
      });
    const eps = 1e-2;
    for (const [l, j] of [
      [0, 3],
      [1, 11],
    ]) {
      let expected = 0;
      for (let i = 0; i < 3; i++) expected += Math.abs((loss(i, l, j, 1 + eps) - loss(i, l, j, 1 - eps)) / (2 * eps));
      expect(scores[l][j]).toBeCloseTo(expected / 3, 3);
    }
  });
});

describe('neuron masks', () => {
  it('keeps the best neurons per layer or globally, never a whole layer below ratio 1', () => {
    const scores = [
      [1, 2, 3, 4, 5, 6],
      [0.1, 0.2, 0.3, 0.4, 0.5, 0.6],
    ];
    expect(keptPerLayer(neuronMaskFromScores(scores, { ratio: 1 / 3 }))).toEqual([4, 4]);
    const g = neuronMaskFromScores(scores, { ratio: 0.5 }, 'global');
    expect(g[1]).toEqual([0, 0, 0, 0, 0, 1]);
    expect(g[0]).toEqual([0, 1, 1, 1, 1, 1]);
  });
});
