// Removing heads, neurons, sublayers and blocks physically (a smaller checkpoint) computes what
// masking them computes.
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { parseConfig, type ModelConfig } from '../../model/config';
import { forward } from '../../model/forward';
import {
  randomArray,
  randomHostWeights,
  TINY_GPT2_CONFIG,
  tinyGpt2,
  tinyVit,
  maxAbsDiff,
} from '../../model/tiny-models';
import type { HostTensor } from '../../model/checkpoint';
import type { ModelMasks } from '../../model/types';
import { toTfWeights } from '../../model/weights';
import { dropBlocks, physicallyPrune } from './physical';

const TOL = 1e-4;

function inputFor(config: ModelConfig): tf.Tensor {
  if (config.kind !== 'vit') {
    const ids = [3, 36, 0, 17, 5, 5, 22, 9, 1, 30, 12, 4];
    return tf.tensor2d([ids, ids.slice().reverse()], [2, ids.length], 'int32');
  }
  const per = config.numChannels * config.imageSize ** 2;
  return tf.tensor4d(randomArray(2 * per, 7), [2, config.numChannels, config.imageSize, config.imageSize]);
}

async function logits(config: ModelConfig, host: Map<string, HostTensor>, masks?: ModelMasks): Promise<Float32Array> {
  return (await forward(config, toTfWeights(host), inputFor(config), { masks }).logits.data()) as Float32Array;
}

describe('physical removal equals masking', () => {
  it('GPT-2: heads and FFN neurons, through the fused c_attn', async () => {
    const config = tinyGpt2(); // d 16, 2 heads of 8, inner 24
    const host = randomHostWeights(config, 4);
    const masks = {
      heads: [
        [0, 1],
        [1, 1],
      ],
      neurons: [
        Array.from({ length: 24 }, (_, j) => (j % 3 === 1 ? 0 : 1)),
        Array.from({ length: 24 }, (_, j) => (j < 5 ? 0 : 1)),
      ],
    };
    const phys = physicallyPrune(config, host, masks);
    expect(phys.heads).toEqual([1, 2]);
    expect(phys.neurons).toEqual([16, 19]);
    expect(phys.prunedHeads).toEqual({ '0': [0] });
    expect(phys.weights.get('transformer.h.0.attn.c_attn.weight')!.shape).toEqual([16, 24]);
    expect(phys.weights.get('transformer.h.0.attn.c_attn.bias')!.shape).toEqual([24]);
    expect(phys.weights.get('transformer.h.0.attn.c_proj.weight')!.shape).toEqual([8, 16]);
    expect(phys.weights.get('transformer.h.1.mlp.c_fc.weight')!.shape).toEqual([16, 19]);
    expect(phys.weights.get('transformer.h.1.mlp.c_proj.weight')!.shape).toEqual([19, 16]);
    // Head 1's value columns of c_attn are columns 2d + 8..2d + 15 of the original.
    const orig = host.get('transformer.h.0.attn.c_attn.weight')!;
    const cut = phys.weights.get('transformer.h.0.attn.c_attn.weight')!;
    expect(cut.data[3 * 24 + 16]).toBe(orig.data[3 * 48 + 32 + 8]);

    const masked = await logits(config, host, masks);
    expect(maxAbsDiff(await logits(config, phys.weights), masked)).toBeLessThan(TOL);
    expect(maxAbsDiff(await logits(config, host), masked)).toBeGreaterThan(1e-2); // the masks matter
  });

  it('ViT: heads and neurons through separate q/k/v [out, in]', async () => {
    const config = tinyVit(); // d 12, 3 heads of 4, inner 20
    const host = randomHostWeights(config, 5);
    const masks = {
      heads: [
        [1, 0, 1],
        [0, 0, 1],
      ],
      neurons: [Array.from({ length: 20 }, (_, j) => (j % 4 === 0 ? 0 : 1)), Array.from({ length: 20 }, () => 1)],
    };
    const phys = physicallyPrune(config, host, masks);
    expect(phys.weights.get('vit.encoder.layer.1.attention.attention.value.weight')!.shape).toEqual([4, 12]);
    expect(phys.weights.get('vit.encoder.layer.1.attention.output.dense.weight')!.shape).toEqual([12, 4]);
    expect(phys.weights.get('vit.encoder.layer.0.intermediate.dense.weight')!.shape).toEqual([15, 12]);
    expect(phys.weights.get('vit.encoder.layer.0.output.dense.weight')!.shape).toEqual([12, 15]);
    const masked = await logits(config, host, masks);
    expect(maxAbsDiff(await logits(config, phys.weights), masked)).toBeLessThan(TOL);
    expect(maxAbsDiff(await logits(config, host), masked)).toBeGreaterThan(1e-3);
  });

  it('a removed sublayer: zero heads or neurons and a zeroed output bias', async () => {
    for (const config of [tinyGpt2(), tinyVit()] as ModelConfig[]) {
      const host = randomHostWeights(config, 6);
      const masks = {
        attention: [true, false],
        mlp: [false, true],
        heads:
          config.kind === 'vit'
            ? [
                [1, 0, 1],
                [1, 1, 1],
              ]
            : undefined,
      };
      const phys = physicallyPrune(config, host, masks);
      expect(phys.heads[1]).toBe(0);
      expect(phys.neurons[0]).toBe(0);
      const masked = await logits(config, host, masks);
      expect(maxAbsDiff(await logits(config, phys.weights), masked)).toBeLessThan(TOL);
    }
  });

  it('a removed block: dropped, later blocks renumbered', async () => {
    const config = parseConfig({ ...TINY_GPT2_CONFIG, n_layer: 3 });
    const host = randomHostWeights(config, 7);
    const small = dropBlocks(config, host, [1]);
    expect(small.config.kind === 'gpt2' && small.config.nLayer).toBe(2);
    expect(small.weights.get('transformer.h.1.mlp.c_fc.weight')).toBe(host.get('transformer.h.2.mlp.c_fc.weight'));
    expect([...small.weights.keys()].some((n) => n.startsWith('transformer.h.2.'))).toBe(false);
    const masked = await logits(config, host, { attention: [true, false, true], mlp: [true, false, true] });
    expect(maxAbsDiff(await logits(small.config, small.weights), masked)).toBeLessThan(TOL);

    const vit = tinyVit();
    const vhost = randomHostWeights(vit, 8);
    const vsmall = dropBlocks(vit, vhost, [0]);
    const vmasked = await logits(vit, vhost, { attention: [false, true], mlp: [false, true] });
    expect(maxAbsDiff(await logits(vsmall.config, vsmall.weights), vmasked)).toBeLessThan(TOL);
  });
});
