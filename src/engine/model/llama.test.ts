// The Llama family's TensorFlow.js forward pass against the plain-TypeScript reference twin, for
// Llama (grouped-query attention, llama3 rope scaling, untied head), Qwen2 (q/k/v biases, tied
// embeddings, linear scaling) and Mistral (a sliding window), with masks and token pruning; and the
// pieces read directly against their definitions.
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { describe, expect, it } from 'vitest';
import { parseConfig, type LlamaConfig } from './config';
import { forward } from './forward';
import { referenceForward } from './reference';
import { ropeInvFreq } from './rotary';
import { paramSpecs } from './schema';
import {
  maxAbsDiff,
  randomArray,
  randomHostWeights,
  TINY_LLAMA_CONFIG,
  TINY_MISTRAL_CONFIG,
  TINY_QWEN2_CONFIG,
} from './tiny-models';
import { toTfWeights } from './weights';

await tf.setBackend('cpu');

const TOL = 1e-4;
const ids = [3, 40, 0, 17, 5, 5, 22, 9, 1, 30, 12, 7];
const variants = {
  llama: TINY_LLAMA_CONFIG,
  qwen2: TINY_QWEN2_CONFIG,
  mistral: TINY_MISTRAL_CONFIG,
};

describe('the Llama family forward pass', () => {
  for (const [name, raw] of Object.entries(variants)) {
    const config = parseConfig(raw) as LlamaConfig;
    const host = randomHostWeights(config, 7, 0.4);
    const weights = toTfWeights(host);

    it(`${name}: logits and every attention map equal the reference`, async () => {
      const ref = referenceForward(config, host, ids);
      const out = forward(config, weights, tf.tensor2d([ids], [1, ids.length], 'int32'), {
        capture: { attention: true },
      });
      expect(out.logits.shape).toEqual([1, ids.length, config.vocabSize]);
      expect(maxAbsDiff(await out.logits.data(), ref.logits.flat())).toBeLessThan(TOL);
      for (let l = 0; l < config.numLayers; l++) {
        expect(maxAbsDiff(await out.attention![l].data(), ref.attention[l].flat(2))).toBeLessThan(TOL);
      }
      tf.dispose([out.logits, ...out.attention!]);
    });

    it(`${name}: equal under weight, head, neuron and sublayer masks and under token pruning`, async () => {
      const w = `model.layers.0.mlp.gate_proj.weight`;
      const shape = host.get(w)!.shape;
      const wm = Float32Array.from(randomArray(shape[0] * shape[1], 5), (v) => (v > 0 ? 1 : 0));
      const structural = {
        heads: [
          [1, 0, 1, 1],
          [0, 0, 1, 1],
        ],
        neurons: [Array.from({ length: config.intermediateSize }, (_, j) => (j % 4 === 1 ? 0 : 1)), undefined],
        attention: [true, true],
        mlp: [true, false],
      } as const;
      const refMasks = { ...structural, weights: new Map([[w, wm]]) } as never;
      const tfMasks = { ...structural, weights: new Map([[w, tf.tensor(wm, shape)]]) } as never;
      const expected = referenceForward(config, host, ids, refMasks).logits.flat();
      const out = forward(config, weights, tf.tensor2d([ids], [1, ids.length], 'int32'), { masks: tfMasks });
      expect(maxAbsDiff(await out.logits.data(), expected)).toBeLessThan(TOL);
      // Token pruning: rotary positions and the sliding window follow the tokens' original positions.
      for (const tokenScoring of ['last-query', 'column-sum'] as const) {
        const keep = [1, 0.5];
        const ref = referenceForward(config, host, ids, {}, { tokenKeep: keep, tokenScoring });
        const pruned = forward(config, weights, tf.tensor2d([ids], [1, ids.length], 'int32'), {
          tokenKeep: keep,
          tokenScoring,
        });
        expect(pruned.logits.shape[1]).toBe(ref.logits.length);
        expect(((await pruned.tokenPositions![1].array()) as number[][])[0]).toEqual(ref.positions![1]);
        expect(maxAbsDiff(await pruned.logits.data(), ref.logits.flat())).toBeLessThan(TOL);
      }
    });
  }

  it('a tied head reads the embedding: the checkpoint has no lm_head', () => {
    const qwen = parseConfig(TINY_QWEN2_CONFIG) as LlamaConfig;
    expect(qwen.tieWordEmbeddings).toBe(true);
    expect(paramSpecs(qwen).some((p) => p.name === 'lm_head.weight')).toBe(false);
    expect(paramSpecs(qwen).some((p) => p.name === 'model.layers.0.self_attn.q_proj.bias')).toBe(true);
    expect(paramSpecs(qwen).some((p) => p.name === 'model.layers.0.self_attn.o_proj.bias')).toBe(false);
    const llama = parseConfig(TINY_LLAMA_CONFIG) as LlamaConfig;
    expect(paramSpecs(llama).find((p) => p.name === 'model.layers.1.self_attn.k_proj.weight')?.shape).toEqual([12, 16]);
    expect(paramSpecs(llama).find((p) => p.name === 'model.layers.1.self_attn.o_proj.weight')?.shape).toEqual([16, 24]);
  });

  it('the sliding window hides keys that many positions back or more', async () => {
    const config = parseConfig(TINY_MISTRAL_CONFIG) as LlamaConfig;
    const out = forward(
      config,
      toTfWeights(randomHostWeights(config, 3)),
      tf.tensor2d([ids], [1, ids.length], 'int32'),
      {
        capture: { attention: true },
      },
    );
    const a = (await out.attention![0].array()) as number[][][][];
    for (let q = 0; q < ids.length; q++) {
      for (let k = 0; k < ids.length; k++) {
        const visible = k <= q && q - k < 4;
        expect(a[0][2][q][k] > 0, `q ${q} k ${k}`).toBe(visible);
      }
    }
  });

  it('rope frequencies follow transformers: θ^(−2i/d), linear division, llama3 blend', () => {
    const base = (theta: number, d: number) => Array.from({ length: d / 2 }, (_, i) => 1 / theta ** ((2 * i) / d));
    const plain = ropeInvFreq({ headDim: 8, ropeTheta: 10000, ropeScaling: null });
    expect(maxAbsDiff(plain, base(10000, 8))).toBeLessThan(1e-7);
    const linear = ropeInvFreq({ headDim: 8, ropeTheta: 10000, ropeScaling: { type: 'linear', factor: 4 } });
    expect(
      maxAbsDiff(
        linear,
        base(10000, 8).map((f) => f / 4),
      ),
    ).toBeLessThan(1e-7);
    // llama3 with original 8 positions, factors 1 and 4: wavelengths above 8 are divided by 8,
    // below 2 kept, between blended by smooth = (8 / wavelength − 1) / 3.
    const f = base(500, 6);
    const expected = f.map((x) => {
      const wl = (2 * Math.PI) / x;
      if (wl > 8) return x / 8;
      if (wl < 2) return x;
      const smooth = (8 / wl - 1) / 3;
      return (1 - smooth) * (x / 8) + smooth * x;
    });
    const got = ropeInvFreq({
      headDim: 6,
      ropeTheta: 500,
      ropeScaling: { type: 'llama3', factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositions: 8 },
    });
    expect(maxAbsDiff(got, expected)).toBeLessThan(1e-7);
  });

  it('Qwen2 windows only the blocks from max_window_layers on, and only with use_sliding_window', () => {
    const q = (extra: object) => parseConfig({ ...TINY_QWEN2_CONFIG, num_hidden_layers: 3, ...extra }) as LlamaConfig;
    expect(q({ sliding_window: 4 }).slidingLayers).toEqual([false, false, false]);
    expect(q({ sliding_window: 4, use_sliding_window: true, max_window_layers: 1 }).slidingLayers).toEqual([
      false,
      true,
      true,
    ]);
    expect(
      q({
        sliding_window: 4,
        use_sliding_window: true,
        layer_types: ['sliding_attention', 'full_attention', 'sliding_attention'],
      }).slidingLayers,
    ).toEqual([true, false, true]);
    expect((parseConfig(TINY_MISTRAL_CONFIG) as LlamaConfig).slidingLayers).toEqual([true, true]);
  });

  it('refuses a config it cannot run, naming the field', () => {
    expect(() => parseConfig({ ...TINY_LLAMA_CONFIG, num_key_value_heads: 3 })).toThrow(/not a multiple of/);
    expect(() => parseConfig({ ...TINY_LLAMA_CONFIG, rope_scaling: { rope_type: 'yarn', factor: 4 } })).toThrow(
      /rope_scaling of type "yarn" is not supported/,
    );
    expect(() => parseConfig({ ...TINY_LLAMA_CONFIG, architectures: ['PhiForCausalLM'] })).toThrow(/not supported/);
  });
});

describe('training a Llama-family model', () => {
  it('grouped-query attention differentiates on WASM as on the CPU (every weight’s gradient)', async () => {
    const config = parseConfig(TINY_LLAMA_CONFIG) as LlamaConfig;
    expect(config.numKvHeads).toBeLessThan(config.numHeads);
    const host = randomHostWeights(config, 11, 0.4);
    const direction = randomArray(ids.length * config.vocabSize, 12);
    const gradients = () => {
      const weights = toTfWeights(host);
      const names = [...weights.keys()];
      const x = tf.tensor2d([ids], [1, ids.length], 'int32');
      const loss = (...params: tf.Tensor[]) => {
        const w = new Map(names.map((n, i) => [n, params[i]]));
        const { logits } = forward(config, w, x, { oneHotEmbedding: true });
        return tf.sum(tf.mul(logits, tf.tensor(direction, logits.shape))) as tf.Scalar;
      };
      const grads = tf.grads(loss)(names.map((n) => weights.get(n)!));
      const out = new Map(names.map((n, i) => [n, grads[i].dataSync().slice()]));
      tf.dispose([...grads, x, ...weights.values()]);
      return out;
    };
    const onCpu = gradients();
    await tf.setBackend('wasm');
    try {
      const onWasm = gradients();
      for (const [name, g] of onCpu) {
        expect(maxAbsDiff(onWasm.get(name)!, g), name).toBeLessThan(TOL * Math.max(1, maxAbs(g)));
        expect(maxAbs(g), name).toBeGreaterThan(0);
      }
    } finally {
      await tf.setBackend('cpu');
    }
  });
});

const maxAbs = (a: ArrayLike<number>) => Array.from(a).reduce((m, v) => Math.max(m, Math.abs(v)), 0);
