import { describe, expect, it } from 'vitest';
import { mapImportance, prunedSharesFromMasks, prunedSharesFromStructure, unitEntries } from './map-importance';
import { Importance } from './importance';
import { Pruner } from './pruner';
import { ModelSession } from '../session';
import { serializeWeights } from '../model/checkpoint';
import { randomHostWeights, tinyGpt2, tinyVit, TINY_VIT_CONFIG } from '../model/tiny-models';
import { writeSafetensors } from '../io/safetensors';
import { physicallyPrune } from '../pruning/structured/physical';
import { prunableLinears } from '../pruning/unstructured';
import type { ModelConfig } from '../model/config';

const ones = (c: ModelConfig) =>
  new Map(prunableLinears(c).map((s) => [s.weight, new Uint8Array(s.inFeatures * s.outFeatures).fill(1)]));

describe('pruned shares', () => {
  // tiny GPT-2: d = 16, 2 heads of 8, FFN 24; c_attn is a Conv1D stored [in = 16, out = 48] as [q | k | v].
  const gpt = tinyGpt2();
  const gptHead = 3 * 16 * 8 + 8 * 16; // q, k, v columns over every input + the c_proj rows
  const gptBlock = 16 * 48 + 16 * 16 + 2 * 16 * 24;

  it('GPT-2: a head owns its q, k, v columns of the fused c_attn [in, out] and its c_proj rows', () => {
    const m = ones(gpt);
    const attn = m.get('transformer.h.0.attn.c_attn.weight')!;
    for (let i = 0; i < 16; i++) attn[i * 48 + 16 + 8 + 3] = 0; // the key column e = 3 of head 1
    const proj = m.get('transformer.h.0.attn.c_proj.weight')!;
    for (let o = 0; o < 16; o++) proj[2 * 16 + o] = 0; // input row 2: head 0's
    const s = prunedSharesFromMasks(gpt, m);
    expect(s.heads[0]).toEqual([16 / gptHead, 16 / gptHead]);
    expect(s.heads[1]).toEqual([0, 0]);
    expect(s.ffn).toEqual([0, 0]);
    expect(s.blocks[0]).toBeCloseTo(32 / gptBlock, 12);
    // The heads split the attention weights between them: each entry belongs to exactly one.
    const seen = new Map<string, Set<number>>();
    for (const h of [0, 1]) {
      for (const [name, idx] of unitEntries(gpt, 1, [h], [])) {
        const set = seen.get(name) ?? new Set<number>();
        for (const i of idx) {
          expect(set.has(i)).toBe(false);
          set.add(i);
        }
        seen.set(name, set);
      }
    }
    expect([...seen].map(([n, set]) => [n, set.size])).toEqual([
      ['transformer.h.1.attn.c_attn.weight', 16 * 48],
      ['transformer.h.1.attn.c_proj.weight', 16 * 16],
    ]);
  });

  it('ViT: a head owns its rows of the separate query/key/value [out, in] and its columns of the output dense', () => {
    // tiny ViT: d = 12, 3 heads of 4, FFN 20; nn.Linear stores [out, in].
    const vit = tinyVit();
    const vitHead = 3 * 4 * 12 + 12 * 4;
    const m = ones(vit);
    const value = m.get('vit.encoder.layer.1.attention.attention.value.weight')!;
    for (let i = 0; i < 12; i++) value[5 * 12 + i] = 0; // output row 5: head 1's
    const out = m.get('vit.encoder.layer.1.attention.output.dense.weight')!;
    for (let o = 0; o < 12; o++) out[o * 12 + 10] = 0; // input column 10: head 2's
    const fc1 = m.get('vit.encoder.layer.0.intermediate.dense.weight')!;
    fc1.fill(0, 0, (20 * 12) / 2); // half of the FFN's first linear
    const s = prunedSharesFromMasks(vit, m);
    expect(s.heads).toEqual([
      [0, 0, 0],
      [0, 12 / vitHead, 12 / vitHead],
    ]);
    expect(s.ffn).toEqual([0.25, 0]);
    const block = 4 * 12 * 12 + 2 * 12 * 20;
    expect(s.blocks[0]).toBeCloseTo(120 / block, 12);
    expect(s.blocks[1]).toBeCloseTo(24 / block, 12);
  });

  it('removed structures: a removed head is 100% pruned, an FFN by its share of neurons, a removed sublayer whole', () => {
    const neurons = [Array(24).fill(1), Array.from({ length: 24 }, (_, j) => (j < 6 ? 0 : 1))];
    const structure = {
      heads: [
        [1, 0],
        [1, 1],
      ],
      neurons,
      mlp: [false, true],
      attention: [true, true],
    };
    const s = prunedSharesFromStructure(gpt, structure);
    expect(s.heads).toEqual([
      [0, 1],
      [0, 0],
    ]);
    expect(s.ffn).toEqual([1, 0.25]);
    // Each block's pruned share is what the physical cut removes from it.
    const host = randomHostWeights(gpt, 3);
    const cut = physicallyPrune(gpt, host, structure);
    for (const l of [0, 1]) {
      const names = prunableLinears(gpt)
        .filter((x) => x.layer === l)
        .map((x) => x.weight);
      const before = names.reduce((a, n) => a + host.get(n)!.data.length, 0);
      const after = names.reduce((a, n) => a + cut.weights.get(n)!.data.length, 0);
      expect(s.blocks[l]).toBeCloseTo(1 - after / before, 12);
    }
    expect(prunedSharesFromStructure(gpt, { attention: [false, true] }).heads).toEqual([
      [1, 1],
      [0, 0],
    ]);
    expect(prunedSharesFromStructure(gpt, {}).blocks).toEqual([0, 0]);
  });
});

describe('mapImportance', () => {
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
    weights: serializeWeights(randomHostWeights(tinyVit(), 4)),
    evalSet: writeSafetensors(images(10, 3)),
    calibSet: writeSafetensors(images(12, 7)),
  });
  const calibration = { source: 'train' as const, count: 8, seed: 0 };

  it('gives every head its output-norm score and every FFN the sum of its neuron scores, with progress', async () => {
    const pruner = new Pruner(session);
    const stages = new Set<string>();
    const m = await mapImportance(pruner, calibration, { onProgress: (stage) => stages.add(stage) });
    const imp = new Importance(pruner);
    expect(m.heads).toEqual(await imp.headScores('norm', calibration));
    const neurons = await imp.neuronScores('activation', calibration);
    expect(m.ffn.map((v, l) => v - neurons[l].reduce((a, x) => a + x, 0))).toEqual([0, 0]);
    expect(m.heads.flat().every((v) => v > 0)).toBe(true);
    expect(m.calibration).toMatch(/^8 train images/);
    expect([...stages]).toEqual(['head scores', 'FFN neuron scores']);
  });
});
