// A pruned, quantized export repacked in the GPTQ format: read back through the format's unpacking,
// every linear gives the engine's dequantized values (up to the f16 scales a loader computes with),
// the pruned weights stay exact zeros, and the other tensors and files are the dense export's.
import { describe, expect, it } from 'vitest';
import { serializeWeights } from '../model/checkpoint';
import { parseConfig } from '../model/config';
import { randomHostWeights, TINY_GPT2_CONFIG } from '../model/tiny-models';
import { readSafetensors, readSafetensorsHeader, type TensorEntry } from '../io/safetensors';
import { INDEX_FILE, parseShardIndex, shardName } from '../io/shard-index';
import { prunableLinears, pruneUnstructured } from '../pruning/unstructured';
import { resolveQuantization } from '../pruning/recipe';
import { toRows } from '../pruning/layout';
import { exportCheckpoint, ExportError } from './checkpoint-export';
import { packGptqCheckpoint, QUANTIZE_CONFIG_FILE } from './gptq-checkpoint';
import { unpackGptq } from './gptq-format';

const raw = { ...TINY_GPT2_CONFIG, vocab_size: 256, n_layer: 3 };
const config = parseConfig(raw);
const host = randomHostWeights(config, 9);
const quant = resolveQuantization({ bits: 4, groupSize: 8, quantizer: 'rtn' });
const text = (b: Uint8Array) => JSON.parse(new TextDecoder().decode(b));

async function exported() {
  const r = await pruneUnstructured(config, host, { method: 'magnitude', sparsity: 0.5, quant }, null, {});
  const files = exportCheckpoint({
    config,
    weights: host,
    masks: r.masks,
    replaced: r.weights,
    provenance: { recipe: { method: 'magnitude', sparsity: 0.5, quant } },
  });
  return { r, files };
}

type Pruned = Awaited<ReturnType<typeof exported>>['r'];

/** Every linear, unpacked from the tensors `tensorsOf` gives for it, is the engine's dequantized matrix. */
function expectEngineWeights(r: Pruned, tensorsOf: (weight: string) => Map<string, TensorEntry>) {
  for (const spec of prunableLinears(config)) {
    const tensors = tensorsOf(spec.weight);
    expect(tensors.has(spec.weight)).toBe(false);
    const u = unpackGptq(spec, tensors, { bits: 4, format: 'gptq_v2' });
    const q = r.quantized!.get(spec.weight)!;
    expect(u.codes).toEqual(q.codes);
    expect(u.groupIndex).toEqual(q.groupIndex);
    const engine = toRows(r.weights!.get(spec.weight)!.data, spec);
    for (let i = 0; i < engine.length; i++) {
      if (!q.mask[i]) expect(u.weights[i]).toBe(0);
      else expect(Math.abs(u.weights[i] - engine[i])).toBeLessThanOrEqual(Math.abs(engine[i]) * 2 ** -10 + 1e-12);
    }
  }
}

describe('the GPTQ-packed export', () => {
  it('unpacks to the engine’s dequantized weights, pruned entries exactly 0', async () => {
    const { r, files } = await exported();
    const packed = packGptqCheckpoint(files, config, r.quantized!, quant);
    const tensors = readSafetensors(packed.get('model.safetensors')!).tensors;
    expectEngineWeights(r, () => tensors);
    // Everything else is the dense export's, byte for byte.
    const before = readSafetensors(files.get('model.safetensors')!).tensors;
    for (const [name, t] of before)
      if (!name.endsWith('.weight') || !tensors.has(name.replace(/weight$/, 'qweight')))
        expect(tensors.get(name)).toEqual(t);
    expect(packed.get('masks.safetensors')).toBe(files.get('masks.safetensors'));
  });

  it('declares quantization_config in config.json and quantize_config.json, and says so in recipe.json', async () => {
    const { r, files } = await exported();
    const packed = packGptqCheckpoint(files, config, r.quantized!, quant);
    const cfg = text(packed.get('config.json')!);
    expect(cfg.quantization_config).toMatchObject({
      quant_method: 'gptq',
      bits: 4,
      group_size: 8,
      desc_act: false,
      sym: false,
      format: 'gptq_v2',
      checkpoint_format: 'gptq_v2',
      block_name_to_quantize: 'transformer.h',
    });
    expect(text(packed.get(QUANTIZE_CONFIG_FILE)!)).toEqual(cfg.quantization_config);
    expect(cfg.n_layer).toBe(3);
    const notes = text(packed.get('recipe.json')!).notes as string[];
    expect(notes[0]).toMatch(
      /^the block linears hold the dequantized values of their 4-bit grid \(rtn, groups of 8 input columns, with zero points: recipe.quant\)/,
    );
    expect(notes.at(-1)).toMatch(/packed in the GPTQ format \(gptq_v2, 4 bits, groups of 8\)/);
  });

  it('refuses a model whose linears are not all quantized', async () => {
    const { r, files } = await exported();
    const some = new Map([...r.quantized!].slice(1));
    expect(() => packGptqCheckpoint(files, config, some, quant)).toThrow(ExportError);
    expect(() => packGptqCheckpoint(files, config, some, quant)).toThrow(/every block linear quantized/);
  });

  it('keeps a source without the "transformer." prefix in its own names', async () => {
    const r = await pruneUnstructured(config, host, { method: 'magnitude', sparsity: 0.5, quant }, null, {});
    const plain = new Map([...host].map(([n, t]) => [n.replace(/^transformer\./, ''), t]));
    const bytes = serializeWeights(plain);
    const storage = {
      dtypes: new Map(),
      fileNames: new Map([...host.keys()].map((n) => [n, n.replace(/^transformer\./, '')])),
      shards: null,
    };
    expect(readSafetensors(bytes).tensors.has('h.0.attn.c_attn.weight')).toBe(true);
    const files = exportCheckpoint({
      config,
      weights: host,
      source: { storage, ignored: [] },
      masks: r.masks,
      replaced: r.weights,
    });
    const tensors = readSafetensors(
      packGptqCheckpoint(files, config, r.quantized!, quant).get('model.safetensors')!,
    ).tensors;
    expect(tensors.has('h.0.attn.c_attn.qweight')).toBe(true);
    expect(tensors.has('h.0.attn.c_attn.weight')).toBe(false);
  });

  it('packs a sharded export shard by shard, with an index whose total_size is the bytes stored', async () => {
    const r = await pruneUnstructured(config, host, { method: 'magnitude', sparsity: 0.5, quant }, null, {});
    // Block 0 in the first shard, everything else in the second: each shard holds linears to pack.
    const [a, b] = [shardName(1, 2), shardName(2, 2)];
    const storage = {
      dtypes: new Map(),
      fileNames: new Map(),
      shards: new Map([...host.keys()].map((n) => [n, n.startsWith('transformer.h.0.') ? a : b])),
    };
    const files = exportCheckpoint({
      config,
      weights: host,
      source: { storage, ignored: [] },
      masks: r.masks,
      replaced: r.weights,
    });
    expect([...files.keys()].filter((f) => f.startsWith('model'))).toEqual([INDEX_FILE, a, b]);
    const packed = packGptqCheckpoint(files, config, r.quantized!, quant);
    expect([...packed.keys()].filter((f) => f.startsWith('model'))).toEqual([INDEX_FILE, a, b]);

    const index = parseShardIndex(text(packed.get(INDEX_FILE)!));
    const shardTensors = new Map([a, b].map((f) => [f, readSafetensors(packed.get(f)!).tensors]));
    // Each linear is read from the shard the index names for its qweight.
    expectEngineWeights(r, (weight) => {
      const shard = index.weightMap.get(weight.replace(/weight$/, 'qweight'))!;
      expect(shard).toBe(weight.startsWith('transformer.h.0.') ? a : b);
      return shardTensors.get(shard)!;
    });

    // The index lists exactly the tensors stored, where they are, and their bytes in total_size.
    const stored = new Map<string, string>();
    let bytes = 0;
    for (const f of [a, b]) {
      for (const t of readSafetensorsHeader(packed.get(f)!).tensors) {
        stored.set(t.name, f);
        bytes += t.end - t.begin;
      }
    }
    expect(index.weightMap).toEqual(stored);
    expect(index.totalSize).toBe(bytes);
    // Packing shrinks the linears, so the source index's size is not carried over.
    expect(bytes).toBeLessThan(parseShardIndex(text(files.get(INDEX_FILE)!)).totalSize!);
  });
});
