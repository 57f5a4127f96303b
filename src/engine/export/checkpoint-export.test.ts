// Exporting pruned tiny models as Hugging Face checkpoints: written to disk, read back with the
// engine's own loader, and compared with the masked model they came from.
import * as tf from '@tensorflow/tfjs';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadCheckpoint, serializeWeights, type HostTensor } from '../model/checkpoint';
import { parseConfig, type ModelConfig } from '../model/config';
import { forward } from '../model/forward';
import { byteLevelTokenizerJson } from '../model/tokenizer';
import { randomArray, randomHostWeights, TINY_GPT2_CONFIG, TINY_VIT_CONFIG } from '../model/tiny-models';
import { toTfWeights } from '../model/weights';
import type { ModelMasks } from '../model/types';
import { readSafetensors } from '../io/safetensors';
import { makeCalibration } from '../pruning/calibration';
import { prunableLinears, pruneUnstructured } from '../pruning/unstructured';
import { exportCheckpoint, ExportError, type ExportedRecipe, type HeadRemover } from './checkpoint-export';
import type { StructuralPruning } from './structure';
import { physicalHeadRemover } from './heads';

const tmp = mkdtempSync(join(tmpdir(), 'export-test-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const enc = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));
const GPT_RAW = { ...TINY_GPT2_CONFIG, vocab_size: 256, n_layer: 3, bos_token_id: 10, custom_field: { kept: true } };
const VIT_RAW = {
  ...TINY_VIT_CONFIG,
  label2id: { a: 0, b: 1, c: 2, d: 3, e: 4 },
  problem_type: 'single_label_classification',
};

/** A source model directory built from tiny random weights, and the checkpoint loaded from it. */
function sourceDir(name: string, raw: Record<string, unknown>, seed: number, extra: Record<string, Uint8Array> = {}) {
  const config = parseConfig(raw);
  const host = randomHostWeights(config, seed);
  const dir = join(tmp, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'config.json'), JSON.stringify(raw));
  writeFileSync(join(dir, 'model.safetensors'), serializeWeights(host));
  const tokenizer = config.kind === 'gpt2' ? byteLevelTokenizerJson() : undefined;
  if (tokenizer) writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(tokenizer));
  for (const [n, b] of Object.entries(extra)) writeFileSync(join(dir, n), b);
  const ck = loadCheckpoint({
    config: JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')),
    weights: new Uint8Array(readFileSync(join(dir, 'model.safetensors'))),
    tokenizer,
  });
  return { ck, tokenizer };
}

function writeOut(name: string, files: Map<string, Uint8Array>): string {
  const dir = join(tmp, name);
  mkdirSync(dir, { recursive: true });
  for (const [n, b] of files) writeFileSync(join(dir, n), b);
  return dir;
}

function readBack(dir: string, tokenizer?: unknown) {
  const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
  const weightsBytes = new Uint8Array(readFileSync(join(dir, 'model.safetensors')));
  return {
    raw: config as Record<string, unknown>,
    ck: loadCheckpoint({ config, weights: weightsBytes, tokenizer }),
    weightsFile: readSafetensors(weightsBytes),
    masks: readSafetensors(new Uint8Array(readFileSync(join(dir, 'masks.safetensors')))),
    recipe: JSON.parse(readFileSync(join(dir, 'recipe.json'), 'utf8')) as ExportedRecipe,
  };
}

const density = (m: ArrayLike<number>) => Array.from(m).reduce((a, v) => a + v, 0) / m.length;

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

function modelInput(config: ModelConfig): tf.Tensor {
  if (config.kind !== 'vit') return tf.tensor2d([[3, 200, 0, 17, 5, 5, 22, 9, 1, 30, 12]], [1, 11], 'int32');
  const n = 2 * config.numChannels * config.imageSize ** 2;
  return tf.tensor4d(randomArray(n, 7), [2, config.numChannels, config.imageSize, config.imageSize]);
}

describe('checkpoint export', () => {
  it('writes a GPT-2 pruned by magnitude: masked weights, U8 masks, every config field, recipe, copied files', async () => {
    const generation = enc({ bos_token_id: 10, eos_token_id: 10 });
    const { ck, tokenizer } = sourceDir('gpt-src', GPT_RAW, 4, { 'generation_config.json': generation });
    const res = await pruneUnstructured(ck.config, ck.weights, { method: 'magnitude', sparsity: 0.5 }, null, {});
    const files = exportCheckpoint({
      config: ck.config,
      weights: ck.weights,
      masks: res.masks,
      replaced: res.weights,
      extraFiles: { 'tokenizer.json': enc(tokenizer), 'generation_config.json': generation },
      provenance: {
        source: 'gpt-src',
        recipe: { method: 'magnitude', sparsity: 0.5 },
        calibration: null,
        blockSparsity: [0.5, 0.5, 0.5],
      },
      date: new Date('2026-01-02T03:04:05Z'),
    });
    expect([...files.keys()]).toEqual([
      'config.json',
      'model.safetensors',
      'masks.safetensors',
      'recipe.json',
      'tokenizer.json',
      'generation_config.json',
    ]);
    const dir = writeOut('gpt-out', files);
    const back = readBack(dir, tokenizer);

    expect(back.raw).toEqual(GPT_RAW); // nothing changed, nothing lost
    expect(back.weightsFile.metadata).toEqual({ format: 'pt' });
    expect(back.weightsFile.tensors.has('lm_head.weight')).toBe(false); // tied: not written
    expect([...back.ck.weights.keys()].sort()).toEqual([...ck.weights.keys()].sort());
    for (const [name, t] of ck.weights) {
      const m = res.masks.get(name);
      const want = m ? t.data.map((v, i) => (m[i] ? v : 0)) : t.data; // +0, not -0, where removed
      expect(back.ck.weights.get(name)!.data, name).toEqual(want);
    }

    const specs = prunableLinears(ck.config);
    expect([...back.masks.tensors.keys()].sort()).toEqual(specs.map((s) => s.weight).sort());
    for (const spec of specs) {
      const m = back.masks.tensors.get(spec.weight)!;
      expect(m.dtype).toBe('U8');
      expect(m.shape).toEqual(ck.weights.get(spec.weight)!.shape);
      expect(Array.from(m.data)).toEqual(Array.from(res.masks.get(spec.weight)!));
      expect(density(m.data)).toBeCloseTo(0.5, 6);
    }

    expect(back.recipe.format).toBe('pruning-workbench/recipe');
    expect(back.recipe.engine.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(back.recipe.date).toBe('2026-01-02T03:04:05.000Z');
    expect(back.recipe.recipe).toEqual({ method: 'magnitude', sparsity: 0.5 });
    expect(back.recipe.structure.removedBlocks).toEqual([]);
    expect(back.recipe.blocks.map((b) => b.sparsity)).toEqual([0.5, 0.5, 0.5]);
    expect(back.recipe.blocks.map((b) => b.targetSparsity)).toEqual([0.5, 0.5, 0.5]);
    expect(back.recipe.sparsity.fraction).toBeCloseTo(0.5, 6);
    expect(back.recipe.files.copied).toEqual(['tokenizer.json', 'generation_config.json']);
    expect(readFileSync(join(dir, 'generation_config.json'))).toEqual(Buffer.from(generation));
  });

  it("writes SparseGPT's updated weights, with zeros where its mask removes", async () => {
    const { ck } = sourceDir('vit-src', VIT_RAW, 5, {
      'preprocessor_config.json': enc({ image_processor_type: 'ViTImageProcessor' }),
    });
    const calib = makeCalibration(
      ck.config,
      { source: 'random', count: 4, seed: 1 },
      { train: null, heldOut: null, tokenizer: null },
    );
    const res = await pruneUnstructured(
      ck.config,
      ck.weights,
      { method: 'sparsegpt', sparsity: 0.5, nm: { n: 2, m: 4 } },
      calib,
      {},
    );
    expect(res.weights).not.toBeNull();
    const back = readBack(
      writeOut(
        'vit-sgpt',
        exportCheckpoint({ config: ck.config, weights: ck.weights, masks: res.masks, replaced: res.weights }),
      ),
    );
    expect(back.raw).toEqual(VIT_RAW);
    for (const [name, m] of res.masks) {
      const updated = res.weights!.get(name)!.data;
      const want = updated.map((v, i) => (m[i] ? v : 0));
      expect(back.ck.weights.get(name)!.data, name).toEqual(want);
      expect(want).not.toEqual(ck.weights.get(name)!.data.map((v, i) => (m[i] ? v : 0))); // really the updated values
      expect(density(back.masks.tensors.get(name)!.data)).toBeCloseTo(0.5, 6);
    }
    for (const name of ['classifier.weight', 'vit.embeddings.cls_token'])
      expect(back.ck.weights.get(name)!.data).toEqual(ck.weights.get(name)!.data);
  });

  it('removes blocks and renumbers; zeroed sublayers, heads and neurons are exact: the export computes the masked forward', async () => {
    for (const [raw, seed] of [
      [GPT_RAW, 11],
      [{ ...VIT_RAW, num_hidden_layers: 3 }, 12],
    ] as const) {
      const { ck, tokenizer } = sourceDir(`struct-${raw.model_type}`, raw, seed);
      const c = ck.config;
      const res = await pruneUnstructured(c, ck.weights, { method: 'magnitude', sparsity: 0.3 }, null, {});
      const heads = c.kind === 'gpt2' ? c.nHead : c.numHeads;
      const inner = c.kind === 'gpt2' ? c.nInner : c.intermediateSize;
      const structure: StructuralPruning = {
        attention: [true, false, false], // block 1 removed, block 2 keeps only its FFN
        mlp: [true, false, true],
        heads: [
          Array.from({ length: heads }, (_, h) => (h === 1 ? 0 : 1)),
          new Array(heads).fill(1),
          new Array(heads).fill(1),
        ],
        neurons: [
          new Array(inner).fill(1),
          new Array(inner).fill(1),
          Array.from({ length: inner }, (_, j) => (j % 3 === 0 ? 0 : 1)),
        ],
      };
      const files = exportCheckpoint({ config: c, weights: ck.weights, masks: res.masks, structure });
      const back = readBack(writeOut(`struct-out-${raw.model_type}`, files), tokenizer);
      const layerKey = c.kind === 'gpt2' ? 'n_layer' : 'num_hidden_layers';
      expect(back.raw).toEqual({ ...raw, [layerKey]: 2 });
      expect(back.recipe.structure.removedBlocks).toEqual([1]);
      expect(back.recipe.structure.blockMap).toEqual([0, null, 1]);
      expect(back.recipe.blocks.map((b) => b.block)).toEqual([0, null, 1]);

      // Renumbering: source block 2's tensors are block 1's now, unchanged where nothing zeroed them.
      const p = (l: number) => (c.kind === 'gpt2' ? `transformer.h.${l}.` : `vit.encoder.layer.${l}.`);
      const ln = c.kind === 'gpt2' ? 'ln_2.weight' : 'layernorm_after.weight';
      expect(back.ck.weights.get(`${p(1)}${ln}`)!.data).toEqual(ck.weights.get(`${p(2)}${ln}`)!.data);
      expect(back.ck.weights.has(`${p(2)}${ln}`)).toBe(false);
      expect(
        back.masks.tensors.has(`${p(2)}${c.kind === 'gpt2' ? 'mlp.c_fc.weight' : 'intermediate.dense.weight'}`),
      ).toBe(false);
      expect(back.masks.tensors.size).toBe(prunableLinears(back.ck.config).length);

      // The exported model's forward equals the original's under the same masks.
      const masks: ModelMasks = {
        ...structure,
        weights: new Map(
          [...res.masks].map(([n, m]) => [n, tf.tensor(Float32Array.from(m), ck.weights.get(n)!.shape)]),
        ),
      };
      const x = modelInput(c);
      const src = toTfWeights(ck.weights);
      const out = toTfWeights(back.ck.weights);
      const want = await forward(c, src, x, { masks }).logits.data();
      const got = await forward(back.ck.config, out, x).logits.data();
      expect(maxAbsDiff(got, want), c.kind).toBeLessThan(1e-5);
      // …and differs from the unmasked original (the masks did something).
      expect(maxAbsDiff(await forward(c, src, x).logits.data(), want)).toBeGreaterThan(1e-3);
      tf.dispose([x, ...src.values(), ...out.values(), ...masks.weights!.values()]);
    }
  });

  it('writes a GPT-2 lm_head that differs from wte and unties it; drops one equal to wte', () => {
    const { ck } = sourceDir('gpt-head', GPT_RAW, 6);
    const wte = ck.weights.get('transformer.wte.weight')!;
    const tied = new Map(ck.weights).set('lm_head.weight', { shape: wte.shape, data: wte.data.slice() });
    const a = readSafetensors(exportCheckpoint({ config: ck.config, weights: tied }).get('model.safetensors')!);
    expect(a.tensors.has('lm_head.weight')).toBe(false);
    const own: HostTensor = { shape: wte.shape, data: randomArray(wte.data.length, 3) };
    const files = exportCheckpoint({ config: ck.config, weights: new Map(ck.weights).set('lm_head.weight', own) });
    expect(readSafetensors(files.get('model.safetensors')!).tensors.get('lm_head.weight')!.data).toEqual(own.data);
    expect(JSON.parse(new TextDecoder().decode(files.get('config.json')!)).tie_word_embeddings).toBe(false);
  });

  it('hands partially removed heads to a HeadRemover under exported block numbers and writes pruned_heads', () => {
    const { ck } = sourceDir('gpt-heads', GPT_RAW, 8);
    const calls: { names: string[]; heads: Record<number, number[]> }[] = [];
    const remover: HeadRemover = (config, tensors, heads) => {
      expect(config.kind === 'gpt2' && config.nLayer).toBe(2);
      calls.push({ names: [...tensors.keys()], heads });
      return tensors;
    };
    const files = exportCheckpoint({
      config: ck.config,
      weights: ck.weights,
      structure: {
        attention: [false, true, true],
        mlp: [false, true, true],
        heads: [
          [1, 1],
          [1, 0],
          [0, 0],
        ],
      },
      removeHeads: remover,
    });
    // Block 0 is removed, so source block 1 is exported block 0; block 2 lost every head: zeroed instead.
    expect(calls.map((c) => c.heads)).toEqual([{ 0: [1] }, { 0: [1] }]); // weights, then masks
    expect(calls[1].names.every((n) => n.endsWith('.weight'))).toBe(true);
    const config = JSON.parse(new TextDecoder().decode(files.get('config.json')!));
    expect(config.pruned_heads).toEqual({ 0: [1] });
    expect(config.n_layer).toBe(2);
    const recipe = JSON.parse(new TextDecoder().decode(files.get('recipe.json')!)) as ExportedRecipe;
    expect(recipe.structure.heads).toBe('removed');
    expect(recipe.blocks[1].removedHeads).toEqual([1]);
    const w = readSafetensors(files.get('model.safetensors')!).tensors;
    expect(Array.from(w.get('transformer.h.1.attn.c_proj.weight')!.data).every((v) => v === 0)).toBe(true);
  });

  it('removes heads physically with physical.ts: smaller matrices, pruned_heads, the masked forward', async () => {
    for (const [raw, seed] of [
      [GPT_RAW, 21],
      [{ ...VIT_RAW, num_hidden_layers: 3 }, 22],
    ] as const) {
      const { ck } = sourceDir(`phys-${raw.model_type}`, raw, seed);
      const c = ck.config;
      const heads = c.kind === 'gpt2' ? c.nHead : c.numHeads;
      const res = await pruneUnstructured(c, ck.weights, { method: 'magnitude', sparsity: 0.4 }, null, {});
      const structure: StructuralPruning = {
        attention: [false, true, true],
        mlp: [false, true, true],
        heads: [
          new Array(heads).fill(1),
          Array.from({ length: heads }, (_, h) => (h === 0 ? 0 : 1)),
          new Array(heads).fill(1),
        ],
      };
      const files = exportCheckpoint({
        config: c,
        weights: ck.weights,
        masks: res.masks,
        structure,
        removeHeads: physicalHeadRemover,
      });
      const raw2 = JSON.parse(new TextDecoder().decode(files.get('config.json')!));
      expect(raw2.pruned_heads).toEqual({ 0: [0] }); // source block 1 is exported block 0
      const tensors = readSafetensors(files.get('model.safetensors')!).tensors;
      const masks = readSafetensors(files.get('masks.safetensors')!).tensors;
      const d = c.kind === 'gpt2' ? c.nEmbd : c.hiddenSize;
      const dh = d / heads;
      const q =
        c.kind === 'gpt2'
          ? 'transformer.h.0.attn.c_attn.weight'
          : 'vit.encoder.layer.0.attention.attention.query.weight';
      expect(tensors.get(q)!.shape).toEqual(c.kind === 'gpt2' ? [d, 3 * (d - dh)] : [d - dh, d]);
      expect(masks.get(q)!.shape).toEqual(tensors.get(q)!.shape);
      for (const [name, m] of masks) expect(m.shape, name).toEqual(tensors.get(name)!.shape);

      // The forward reads the narrower widths from the tensors.
      const host = new Map([...tensors].map(([n, e]) => [n, { shape: e.shape, data: e.data as Float32Array }]));
      const x = modelInput(c);
      const src = toTfWeights(ck.weights);
      const out = toTfWeights(host);
      const maskT: ModelMasks = {
        ...structure,
        weights: new Map(
          [...res.masks].map(([n, m]) => [n, tf.tensor(Float32Array.from(m), ck.weights.get(n)!.shape)]),
        ),
      };
      const want = await forward(c, src, x, { masks: maskT }).logits.data();
      const got = await forward(parseConfig(raw2), out, x).logits.data();
      expect(maxAbsDiff(got, want), c.kind).toBeLessThan(1e-5);
      tf.dispose([x, ...src.values(), ...out.values(), ...maskT.weights!.values()]);
    }
  });

  it('refuses what would make a broken checkpoint', () => {
    const { ck } = sourceDir('gpt-bad', GPT_RAW, 9);
    const all = { attention: [false, false, false], mlp: [false, false, false] };
    expect(() => exportCheckpoint({ config: ck.config, weights: ck.weights, structure: all })).toThrow(
      /every block is removed/,
    );
    expect(() =>
      exportCheckpoint({ config: ck.config, weights: ck.weights, extraFiles: { 'config.json': new Uint8Array() } }),
    ).toThrow(ExportError);
    expect(() =>
      exportCheckpoint({ config: ck.config, weights: ck.weights, masks: new Map([['nope', new Uint8Array(1)]]) }),
    ).toThrow(/"nope"/);
    expect(() =>
      exportCheckpoint({ config: ck.config, weights: ck.weights, structure: { neurons: [[1, 0]] } }),
    ).toThrow(/neurons\[0\] has 2 entries/);
  });
});
