// Exports physically smaller where config.json can say it (the same heads and FFN width in every
// block), zeroed elsewhere; either way the reloaded checkpoint computes what the masked model does.
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { loadCheckpoint, type HostTensor } from '../model/checkpoint';
import { parseConfig, type ModelConfig } from '../model/config';
import { forward } from '../model/forward';
import { byteLevelTokenizerJson } from '../model/tokenizer';
import {
  maxAbsDiff,
  randomHostWeights,
  TINY_GPT2_CONFIG,
  TINY_LLAMA_CONFIG,
  TINY_VIT_CONFIG,
} from '../model/tiny-models';
import { toTfWeights } from '../model/weights';
import type { ModelMasks } from '../model/types';
import { exportCheckpoint, type ExportedRecipe } from './checkpoint-export';
import type { StructuralPruning } from './structure';

const LLAMA = { ...TINY_LLAMA_CONFIG, vocab_size: 256 };
const GPT2 = { ...TINY_GPT2_CONFIG, vocab_size: 256 };
const ids = [3, 36, 0, 17, 5, 5, 22, 9, 1, 30, 12, 4];

function logits(config: ModelConfig, host: Map<string, HostTensor>, masks?: ModelMasks): Float32Array {
  const w = toTfWeights(host);
  try {
    return tf.tidy(() => {
      const input =
        config.kind === 'vit'
          ? tf.randomUniform([1, config.numChannels, config.imageSize, config.imageSize], -1, 1, 'float32', 3)
          : tf.tensor2d([ids], [1, ids.length], 'int32');
      return forward(config, w, input, { masks }).logits.dataSync() as Float32Array;
    });
  } finally {
    tf.dispose([...w.values()]);
  }
}

function exportAndReload(raw: Record<string, unknown>, structure: StructuralPruning) {
  const config = parseConfig(raw);
  const weights = randomHostWeights(config, 11);
  const tokenizer = config.kind === 'vit' ? undefined : byteLevelTokenizerJson();
  const files = exportCheckpoint({ config, weights, structure });
  const exported = JSON.parse(new TextDecoder().decode(files.get('config.json')!));
  const ck = loadCheckpoint({ config: exported, weights: files.get('model.safetensors')!, tokenizer });
  const recipe = JSON.parse(new TextDecoder().decode(files.get('recipe.json')!)) as ExportedRecipe;
  const masked = logits(config, weights, structure as ModelMasks);
  const diff = maxAbsDiff(logits(ck.config, ck.weights), masked);
  const params = [...ck.weights.values()].reduce((a, t) => a + t.data.length, 0);
  const sourceParams = [...weights.values()].reduce((a, t) => a + t.data.length, 0);
  return { exported, recipe, diff, params, sourceParams };
}

describe('uniform removal is cut out of the export', () => {
  it('Llama: one query head of every group and the same FFN width in every block', () => {
    const r = exportAndReload(LLAMA, {
      heads: [
        [1, 0, 0, 1],
        [0, 1, 1, 0],
      ],
      neurons: [0, 1].map((l) => Array.from({ length: 28 }, (_, j) => ((j + l) % 4 === 0 ? 0 : 1))),
    });
    expect(r.exported).toMatchObject({
      num_attention_heads: 2,
      num_key_value_heads: 2,
      head_dim: 6,
      intermediate_size: 21,
    });
    expect(r.recipe.structure).toMatchObject({ heads: 'removed', neurons: 'removed' });
    expect(r.params).toBeLessThan(r.sourceParams);
    expect(r.diff).toBeLessThan(1e-4);
  });

  it('Llama: a whole key/value group goes with its query heads', () => {
    const r = exportAndReload(LLAMA, {
      heads: [
        [0, 0, 1, 1],
        [1, 1, 0, 0],
      ],
    });
    expect(r.exported).toMatchObject({ num_attention_heads: 2, num_key_value_heads: 1 });
    expect(r.diff).toBeLessThan(1e-4);
  });

  it('Llama: uneven groups stay zeroed, and recipe.json says why', () => {
    const r = exportAndReload(LLAMA, {
      heads: [
        [1, 0, 1, 1],
        [1, 1, 1, 1],
      ],
      neurons: [Array.from({ length: 28 }, (_, j) => (j < 3 ? 0 : 1)), Array(28).fill(1)],
    });
    expect(r.exported).toMatchObject({ num_attention_heads: 4, num_key_value_heads: 2, intermediate_size: 28 });
    expect(r.recipe.structure).toMatchObject({ heads: 'zeroed', neurons: 'zeroed' });
    expect(r.recipe.notes.join(' ')).toMatch(/heads are zeroed, not cut/);
    expect(r.recipe.notes.join(' ')).toMatch(/neurons are zeroed, not cut: the blocks keep 25, 28/);
    expect(r.params).toBe(r.sourceParams);
    expect(r.diff).toBeLessThan(1e-4);
  });

  it('GPT-2 and ViT: the same FFN width in every block is cut; heads stay zeroed', () => {
    for (const raw of [GPT2, TINY_VIT_CONFIG] as Record<string, unknown>[]) {
      const c = parseConfig(raw);
      const ffn = c.kind === 'gpt2' ? c.nInner : c.kind === 'vit' ? c.intermediateSize : 0;
      const heads = c.kind === 'gpt2' ? [1, 0] : [1, 0, 1];
      const r = exportAndReload(raw, {
        heads: [heads, heads],
        neurons: [0, 1].map((l) => Array.from({ length: ffn }, (_, j) => (j % 2 === l ? 0 : 1))),
      });
      expect(r.exported[c.kind === 'gpt2' ? 'n_inner' : 'intermediate_size']).toBe(ffn / 2);
      expect(r.recipe.structure).toMatchObject({ heads: 'zeroed', neurons: 'removed' });
      expect(r.diff).toBeLessThan(1e-4);
    }
  });
});
