// The pass that reads a block at a time against the whole-model path: the same masks (counted), the
// same SparseGPT reconstruction, the same dense and pruned metric, and the export's weight files and
// masks byte for byte what exportCheckpoint writes — on GPT-2 in one F32 file and on Llama (grouped
// query attention) in BF16 shards. It holds one block at a time, and a cancel frees every tensor.
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { ModelSession } from '../session';
import { Pruner, countMasks, type PruneRecipe } from '../eval/pruner';
import { exportCheckpoint } from '../export/checkpoint-export';
import { gatherWeightFiles, type WeightStorage, writeWeightFiles } from '../model/checkpoint';
import { parseConfig, sequenceLength, type CausalLmConfig } from '../model/config';
import { openCheckpoint, gatherWeightSources } from '../model/lazy-checkpoint';
import { randomHostWeights, TINY_GPT2_CONFIG, TINY_LLAMA_CONFIG } from '../model/tiny-models';
import { byteLevelTokenizerJson } from '../model/tokenizer';
import { bytesSource } from '../io/byte-source';
import { writeSafetensors } from '../io/safetensors';
import { shardName } from '../io/shard-index';
import type { OpenSink } from '../export/streamed-export';
import { pruneStreamed, type LmEvaluation } from './streamed-prune';
import { resolvePruneRecipe, resolveQuantization } from '../pruning/recipe';

const text = (s: string) => {
  const bytes = new TextEncoder().encode(s);
  return writeSafetensors({ bytes: { dtype: 'U8', shape: [bytes.length], data: bytes } });
};
const EVAL = 'And God said, Let there be light: and there was light. '.repeat(3);
const CALIB = 'In the beginning God created the heaven and the earth. '.repeat(4);

function weightFiles(raw: Record<string, unknown>, sharded: boolean): Map<string, Uint8Array> {
  const weights = randomHostWeights(parseConfig(raw), 5);
  if (!sharded) return writeWeightFiles(weights);
  const names = [...weights.keys()];
  const storage: WeightStorage = {
    dtypes: new Map(names.map((n) => [n, 'BF16'])),
    fileNames: new Map(names.map((n) => [n, n])),
    shards: new Map(names.map((n, i) => [n, shardName(1 + Math.floor((3 * i) / names.length), 3)])),
  };
  return writeWeightFiles(weights, storage);
}

const memorySinks = () => {
  const files = new Map<string, Uint8Array>();
  const open: OpenSink = async (name, size) => {
    const bytes = new Uint8Array(size);
    files.set(name, bytes);
    return { write: async (at, b) => bytes.set(b, at), close: async () => {} };
  };
  return { files, open };
};

const FAMILIES = {
  'GPT-2, F32, one file': { raw: { ...TINY_GPT2_CONFIG, vocab_size: 256 }, sharded: false },
  'Llama (GQA), BF16, 3 shards': {
    raw: { ...TINY_LLAMA_CONFIG, vocab_size: 256, max_position_embeddings: 16, torch_dtype: 'bfloat16' },
    sharded: true,
  },
};

const RECIPES: [string, Omit<PruneRecipe, 'calibration'>][] = [
  ['wanda (sequential)', { method: 'wanda', sparsity: 0.5 }],
  ['wanda (one-shot)', { method: 'wanda', sparsity: 0.6, calibrationMode: 'one-shot' }],
  ['wanda 2:4', { method: 'wanda', sparsity: 0.5, nm: { n: 2, m: 4 } }],
  ['sparsegpt', { method: 'sparsegpt', sparsity: 0.5 }],
  ['magnitude', { method: 'magnitude', sparsity: 0.3 }],
  ['sparsegpt + GPTQ 4-bit', { method: 'sparsegpt', sparsity: 0.5, quant: resolveQuantization({ bits: 4 }) }],
  [
    'wanda (one-shot) + GPTQ 3-bit in groups',
    {
      method: 'wanda',
      sparsity: 0.5,
      calibrationMode: 'one-shot',
      quant: resolveQuantization({ bits: 3, groupSize: 8 }),
    },
  ],
  [
    'magnitude + RTN 8-bit',
    { method: 'magnitude', sparsity: 0.3, quant: resolveQuantization({ bits: 8, quantizer: 'rtn' }) },
  ],
];

describe.each(Object.entries(FAMILIES))('%s', (_, family) => {
  const files = weightFiles(family.raw, family.sharded);
  const tokenizer = byteLevelTokenizerJson();
  const session = ModelSession.open({
    config: family.raw,
    ...gatherWeightFiles((name) => files.get(name))!,
    tokenizer,
    evalSet: text(EVAL),
    calibSet: text(CALIB),
  });
  const c = session.config as CausalLmConfig;
  const evaluation = (): LmEvaluation => {
    const tok = session.checkpoint.tokenizer!;
    const t = sequenceLength(c);
    return {
      tokens: Int32Array.from(tok.encode(EVAL)),
      bytes: new TextEncoder().encode(EVAL).length,
      context: t,
      stride: t,
      tokenBytes: (id) => tok.tokenToBytes(id).length,
    };
  };
  const lazy = async () => {
    const sources = await gatherWeightSources((name) => {
      const b = files.get(name);
      return b && bytesSource(b);
    });
    return openCheckpoint({ config: family.raw, tokenizer, ...sources! });
  };

  it.each(RECIPES)('%s: the same masks, metric and export as the whole model', async (_, given) => {
    const pruner = new Pruner(session);
    const recipe = resolvePruneRecipe({ ...given, calibration: { source: 'train', count: 2, seed: 1 } }, 'causal-lm');
    const { report, result } = await pruner.pruneAndMeasure(recipe);
    const dense = await session.evaluate();
    const whole = exportCheckpoint({
      config: c,
      weights: session.checkpoint.weights,
      source: session.checkpoint,
      masks: result.masks,
      replaced: result.weights,
    });

    const calib = recipe.method === 'magnitude' ? null : await pruner.calibration(recipe.calibration!);
    const sinks = memorySinks();
    const before = tf.memory().numTensors;
    const streamed = await pruneStreamed({
      checkpoint: await lazy(),
      recipe,
      calibration: calib,
      evaluation: evaluation(),
      exportTo: sinks.open,
    });
    expect(tf.memory().numTensors).toBe(before);
    expect(streamed.blocksHeld).toBe(1);

    expect(streamed.counts).toEqual(countMasks(c, result.masks));
    expect(streamed.report.sparsity).toBeCloseTo(report.sparsity, 12);
    expect(streamed.report.blockSparsity).toEqual(report.blockSparsity);
    expect(streamed.report.flops).toBe(report.flops);
    expect(streamed.report.nonzeroParams).toBe(report.nonzeroParams);
    expect(streamed.report.bytes).toEqual(report.bytes);
    const bpb = (m: unknown) => (m as { bitsPerByte: number }).bitsPerByte;
    expect(bpb(streamed.metric)).toBeCloseTo(bpb(report.metric), 5);
    expect(bpb(streamed.denseMetric)).toBeCloseTo(bpb(dense), 5);

    expect([...sinks.files.keys()].sort()).toEqual(
      [...whole.keys()].filter((n) => n !== 'config.json' && n !== 'recipe.json').sort(),
    );
    for (const [name, bytes] of sinks.files) expect(Buffer.compare(bytes, whole.get(name)!), name).toBe(0);
    const recipeJson = JSON.parse(new TextDecoder().decode(whole.get('recipe.json')!));
    expect(streamed.export!.params).toEqual(recipeJson.params);
    expect(streamed.export!.zero).toBe(recipeJson.sparsity.zero);
    expect(streamed.export!.config).toEqual(JSON.parse(new TextDecoder().decode(whole.get('config.json')!)));
  });

  it('a cancel mid-way frees every tensor and closes the files', async () => {
    const controller = new AbortController();
    const closed: string[] = [];
    const open: OpenSink = async (name) => ({ write: async () => {}, close: async () => void closed.push(name) });
    const before = tf.memory().numTensors;
    const run = pruneStreamed({
      checkpoint: await lazy(),
      recipe: { method: 'magnitude', sparsity: 0.5 },
      calibration: null,
      evaluation: evaluation(),
      exportTo: open,
      signal: controller.signal,
      onProgress: (stage) => {
        if (stage.startsWith('block 2/')) controller.abort();
      },
    });
    await expect(run).rejects.toThrow(/abort/i);
    expect(tf.memory().numTensors).toBe(before);
    expect(closed.length).toBeGreaterThan(0);
  });
});
