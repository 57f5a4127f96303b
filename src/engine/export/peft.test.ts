// PEFT's adapter files: tensor names, shapes and LoraConfig fields for GPT-2 (Conv1D, fan_in_fan_out)
// and nn.Linear models (Llama, ViT), and PEFT's merge rule applied to the exported tensors giving
// the weights our merge gives.
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { readSafetensors } from '../io/safetensors';
import type { HostTensor } from '../model/checkpoint';
import type { ModelConfig } from '../model/config';
import { randomArray, randomHostWeights, tinyGpt2, tinyLlama, tinyVit } from '../model/tiny-models';
import { toTfWeights } from '../model/weights';
import {
  disposeLora,
  disposeMerged,
  hostLora,
  initLora,
  type LoraAdapters,
  loraTargets,
  mergeLora,
} from '../recovery/lora';
import { exportPeftAdapter, PEFT_CONFIG_FILE, PEFT_WEIGHTS_FILE } from './peft';

/** Adapters with every value set (B too), on the host. */
async function adaptersFor(config: ModelConfig, targets: string[], rank: number, alpha: number) {
  const settings = { rank, alpha, targets };
  const adapters = initLora(loraTargets(config, settings), settings, 1);
  let i = 0;
  for (const pair of adapters.layers.values()) {
    const b = pair.b;
    pair.b = tf.tensor(randomArray(b.size, 50 + i++, 0.5), b.shape);
    b.dispose();
  }
  return { adapters, host: await hostLora(adapters) };
}

function read(files: Map<string, Uint8Array>) {
  const config = JSON.parse(new TextDecoder().decode(files.get(PEFT_CONFIG_FILE)));
  const weights = readSafetensors(files.get(PEFT_WEIGHTS_FILE)!);
  return { config, weights };
}

/** PEFT's merge: W + scaling · transpose(B @ A, fan_in_fan_out), in plain arithmetic. */
function peftMerge(w: HostTensor, a: Float32Array, b: Float32Array, r: number, scaling: number, fanInFanOut: boolean) {
  const [rows, cols] = w.shape;
  const [out, inF] = fanInFanOut ? [cols, rows] : [rows, cols];
  const merged = Float32Array.from(w.data);
  for (let o = 0; o < out; o++)
    for (let i = 0; i < inF; i++) {
      let d = 0;
      for (let k = 0; k < r; k++) d += b[o * r + k] * a[k * inF + i];
      merged[fanInFanOut ? i * out + o : o * inF + i] += scaling * d;
    }
  return merged;
}

describe('PEFT adapter export', () => {
  it('GPT-2: Conv1D weights, fan_in_fan_out, lora_A [r, in] and lora_B [out, r]', async () => {
    const gpt = tinyGpt2();
    const targets = ['transformer.h.0.attn.c_attn.weight', 'transformer.h.1.mlp.c_proj.weight'];
    const { adapters, host } = await adaptersFor(gpt, targets, 4, 8);
    const { config, weights } = read(exportPeftAdapter(gpt, host, 'openai-community/gpt2'));
    expect(config).toEqual({
      peft_type: 'LORA',
      task_type: 'CAUSAL_LM',
      r: 4,
      lora_alpha: 8,
      target_modules: ['transformer.h.0.attn.c_attn', 'transformer.h.1.mlp.c_proj'],
      lora_dropout: 0,
      bias: 'none',
      fan_in_fan_out: true,
      base_model_name_or_path: 'openai-community/gpt2',
      inference_mode: true,
      init_lora_weights: true,
      use_rslora: false,
      use_dora: false,
      modules_to_save: null,
      revision: null,
    });
    expect(weights.metadata).toEqual({ format: 'pt' });
    const shapes = Object.fromEntries([...weights.tensors].map(([n, t]) => [n, [t.dtype, ...t.shape]]));
    expect(shapes).toEqual({
      'base_model.model.transformer.h.0.attn.c_attn.lora_A.weight': ['F32', 4, 16],
      'base_model.model.transformer.h.0.attn.c_attn.lora_B.weight': ['F32', 48, 4],
      'base_model.model.transformer.h.1.mlp.c_proj.lora_A.weight': ['F32', 4, 24],
      'base_model.model.transformer.h.1.mlp.c_proj.lora_B.weight': ['F32', 16, 4],
    });

    // PEFT merging the exported tensors into the stored [in, out] weight gives our merged weight.
    const base = randomHostWeights(gpt, 2);
    const tfBase = toTfWeights(base);
    const merged = mergeLora(gpt, tfBase, adapters);
    for (const name of targets) {
      const module = `base_model.model.${name.replace(/\.weight$/, '')}`;
      const a = weights.tensors.get(`${module}.lora_A.weight`)!.data as Float32Array;
      const b = weights.tensors.get(`${module}.lora_B.weight`)!.data as Float32Array;
      const expected = peftMerge(base.get(name)!, a, b, 4, 8 / 4, true);
      const got = await merged.get(name)!.data();
      got.forEach((v, i) => {
        expect(v).toBeCloseTo(expected[i], 5);
      });
    }
    disposeMerged(merged, adapters);
    disposeLora(adapters);
    tf.dispose([...tfBase.values()]);
  });

  it('Llama: nn.Linear weights, no fan_in_fan_out, grouped key/value projections', async () => {
    const llama = tinyLlama();
    const targets = ['model.layers.0.self_attn.k_proj.weight', 'model.layers.1.mlp.down_proj.weight'];
    const { adapters, host } = await adaptersFor(llama, targets, 2, 16);
    const { config, weights } = read(exportPeftAdapter(llama, host, null));
    expect(config.task_type).toBe('CAUSAL_LM');
    expect(config.fan_in_fan_out).toBe(false);
    expect(config.base_model_name_or_path).toBeNull();
    expect(config.target_modules).toEqual(['model.layers.0.self_attn.k_proj', 'model.layers.1.mlp.down_proj']);
    const shapes = Object.fromEntries([...weights.tensors].map(([n, t]) => [n, t.shape]));
    expect(shapes).toEqual({
      'base_model.model.model.layers.0.self_attn.k_proj.lora_A.weight': [2, 16],
      'base_model.model.model.layers.0.self_attn.k_proj.lora_B.weight': [12, 2],
      'base_model.model.model.layers.1.mlp.down_proj.lora_A.weight': [2, 28],
      'base_model.model.model.layers.1.mlp.down_proj.lora_B.weight': [16, 2],
    });
    const base = randomHostWeights(llama, 3);
    const tfBase = toTfWeights(base);
    const merged = mergeLora(llama, tfBase, adapters);
    const name = targets[1];
    const module = 'base_model.model.model.layers.1.mlp.down_proj';
    const expected = peftMerge(
      base.get(name)!,
      weights.tensors.get(`${module}.lora_A.weight`)!.data as Float32Array,
      weights.tensors.get(`${module}.lora_B.weight`)!.data as Float32Array,
      2,
      16 / 2,
      false,
    );
    (await merged.get(name)!.data()).forEach((v, i) => {
      expect(v).toBeCloseTo(expected[i], 4);
    });
    disposeMerged(merged, adapters);
    disposeLora(adapters);
    tf.dispose([...tfBase.values()]);
  });

  it('ViT: no task type, the encoder linears under vit.', async () => {
    const vit = tinyVit();
    const { adapters, host } = await adaptersFor(vit, ['vit.encoder.layer.1.attention.attention.query.weight'], 3, 3);
    const { config, weights } = read(exportPeftAdapter(vit, host, 'me/vit-tiny'));
    expect(config.task_type).toBeNull();
    expect(config.fan_in_fan_out).toBe(false);
    expect(config.target_modules).toEqual(['vit.encoder.layer.1.attention.attention.query']);
    expect([...weights.tensors.keys()]).toEqual([
      'base_model.model.vit.encoder.layer.1.attention.attention.query.lora_A.weight',
      'base_model.model.vit.encoder.layer.1.attention.attention.query.lora_B.weight',
    ]);
    disposeLora(adapters);
  });

  it('refuses adapters that do not fit the model', async () => {
    const gpt = tinyGpt2();
    const { adapters, host } = await adaptersFor(gpt, ['transformer.h.0.attn.c_attn.weight'], 2, 2);
    const stray: LoraAdapters<HostTensor> = {
      ...host,
      layers: new Map([['transformer.h.9.attn.c_attn.weight', host.layers.get('transformer.h.0.attn.c_attn.weight')!]]),
    };
    expect(() => exportPeftAdapter(gpt, stray, null)).toThrow(/not a linear layer/);
    const pair = host.layers.get('transformer.h.0.attn.c_attn.weight')!;
    const transposed: LoraAdapters<HostTensor> = {
      ...host,
      layers: new Map([['transformer.h.0.attn.c_attn.weight', { a: { ...pair.a, shape: [16, 2] }, b: pair.b }]]),
    };
    expect(() => exportPeftAdapter(gpt, transposed, null)).toThrow(/lora_A .* is \[16,2\], expected \[2,16\]/);
    disposeLora(adapters);
  });
});
