// A model the page reads a block at a time: measured and pruned as the whole model is, one pass at
// a time, the dense metric measured once; what cannot stream or fit is refused and changes nothing.
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { ModelError, ModelSession } from '../session';
import { Pruner, type PruneRecipe } from '../eval/pruner';
import { resolveQuantization } from '../pruning/recipe';
import { gatherWeightFiles, writeWeightFiles } from '../model/checkpoint';
import { parseConfig } from '../model/config';
import { openCheckpoint, gatherWeightSources } from '../model/lazy-checkpoint';
import { randomHostWeights, TINY_LLAMA_CONFIG } from '../model/tiny-models';
import { byteLevelTokenizerJson } from '../model/tokenizer';
import { bytesSource } from '../io/byte-source';
import { writeSafetensors } from '../io/safetensors';
import { parseDataSet } from '../data/datasets';
import type { OpenSink } from '../export/streamed-export';
import { wholeModelMemory } from './memory';
import { StreamedSession } from './streamed-session';

const text = (s: string) => {
  const bytes = new TextEncoder().encode(s);
  return writeSafetensors({ bytes: { dtype: 'U8', shape: [bytes.length], data: bytes } });
};
const EVAL_TEXT = 'And God said, Let there be light: and there was light. '.repeat(3);
const EVAL = text(EVAL_TEXT);
const CALIB = text('In the beginning God created the heaven and the earth. '.repeat(4));
const RAW = { ...TINY_LLAMA_CONFIG, vocab_size: 256, max_position_embeddings: 16 };
const files = writeWeightFiles(randomHostWeights(parseConfig(RAW), 7));
const tokenizer = byteLevelTokenizerJson();
const whole = () =>
  ModelSession.open({
    config: RAW,
    ...gatherWeightFiles((n) => files.get(n))!,
    tokenizer,
    evalSet: EVAL,
    calibSet: CALIB,
  });

async function streamed(budget = 1e9): Promise<StreamedSession> {
  const sources = await gatherWeightSources((n) => {
    const b = files.get(n);
    return b && bytesSource(b);
  });
  const ck = await openCheckpoint({ config: RAW, tokenizer, ...sources! });
  return StreamedSession.open(ck, { evalSet: EVAL, calibSet: CALIB }, budget, wholeModelMemory(ck));
}

const WANDA: PruneRecipe = {
  method: 'wanda',
  sparsity: 0.5,
  calibration: { source: 'train', count: 2, seed: 1, length: 8 },
};
const bpb = (m: unknown) => (m as { bitsPerByte: number }).bitsPerByte;

const memorySinks = () => {
  const written = new Map<string, Uint8Array>();
  const open: OpenSink = async (name, size) => {
    const bytes = new Uint8Array(size);
    written.set(name, bytes);
    return { write: async (at, b) => bytes.set(b, at), close: async () => {} };
  };
  return { written, open };
};

describe('a model read a block at a time', () => {
  it('has the whole model’s summary, saying why it streams', async () => {
    const s = await streamed();
    const { streamed: info, ...rest } = s.summary();
    const { streamed: none, ...expected } = whole().summary();
    expect(rest).toEqual(expected);
    expect(none).toBeUndefined();
    expect(info).toEqual({ budget: 1e9, whole: s.whole.bytes, blockAtATime: expect.any(Number) });
    expect(info!.blockAtATime).toBeLessThan(info!.whole);
  });

  it('measures and prunes as the whole model does, one pass at a time, the dense model once', async () => {
    const w = whole();
    const dense = await w.evaluate();
    const { report } = await new Pruner(w).pruneAndMeasure(WANDA);
    const s = await streamed();
    const before = tf.memory().numTensors;
    const stages: string[] = [];
    // Asked together, as the page does on opening: the prune waits for the measurement and reuses it.
    const [d, r] = await Promise.all([s.evaluate(), s.prune(WANDA, { onProgress: (stage) => stages.push(stage) })]);
    expect(bpb(d)).toBeCloseTo(bpb(dense), 5);
    expect(bpb(r.metric)).toBeCloseTo(bpb(report.metric), 5);
    expect(r.sparsity).toBeCloseTo(report.sparsity, 12);
    expect(r.blockSparsity).toEqual(report.blockSparsity);
    expect(r.calibration).toBe(report.calibration);
    expect(stages).not.toContain('evaluating the dense model');
    expect(stages).toContain('evaluating the pruned model');
    expect(tf.memory().numTensors).toBe(before);
  });

  it('keeps one-shot statistics: a second sparsity calibrates nothing and prunes as the whole model', async () => {
    const oneShot = (sparsity: number): PruneRecipe => ({ ...WANDA, sparsity, calibrationMode: 'one-shot' });
    const w = whole();
    const pruner = new Pruner(w);
    const s = await streamed();
    await s.evaluate();
    const first: string[] = [];
    await s.prune(oneShot(0.4), { onProgress: (stage) => first.push(stage) });
    const second: string[] = [];
    const r = await s.prune(oneShot(0.6), { onProgress: (stage) => second.push(stage) });
    expect(first.some((st) => st.endsWith('calibrating'))).toBe(true);
    expect(second.some((st) => st.endsWith('calibrating'))).toBe(false);
    const { report } = await pruner.pruneAndMeasure(oneShot(0.6));
    expect(r.blockSparsity).toEqual(report.blockSparsity);
    expect(bpb(r.metric)).toBeCloseTo(bpb(report.metric), 5);
    // Another calibration set is gathered anew.
    const third: string[] = [];
    await s.prune(
      { ...oneShot(0.5), calibration: { ...WANDA.calibration!, seed: 2 } },
      {
        onProgress: (stage) => third.push(stage),
      },
    );
    expect(third.some((st) => st.endsWith('calibrating'))).toBe(true);
    // GPTQ reads the Gram matrices, which are never kept: on the windows held it calibrates again, and
    // prunes as the whole model does.
    const gptq: PruneRecipe = {
      ...oneShot(0.6),
      calibration: { ...WANDA.calibration!, seed: 2 },
      quant: resolveQuantization({ bits: 4 }),
    };
    const fourth: string[] = [];
    const q = await s.prune(gptq, { onProgress: (stage) => fourth.push(stage) });
    expect(fourth.some((st) => st.endsWith('calibrating'))).toBe(true);
    const wholeQ = (await pruner.pruneAndMeasure(gptq)).report;
    expect(q.bytes.stored).toBe(wholeQ.bytes.stored);
    expect(bpb(q.metric)).toBeCloseTo(bpb(wholeQ.metric), 5);
  });

  it('exports weights, masks, config, recipe and the copied files, measured', async () => {
    const s = await streamed();
    const dense = await s.evaluate();
    const sinks = memorySinks();
    const tokenizerBytes = new TextEncoder().encode(JSON.stringify(tokenizer));
    const listed = await s.export(WANDA, {
      sink: sinks.open,
      provenance: { recipe: WANDA },
      copied: { 'tokenizer.json': tokenizerBytes },
    });
    expect(listed.map((f) => f.name).sort()).toEqual(
      ['config.json', 'masks.safetensors', 'model.safetensors', 'recipe.json', 'tokenizer.json'].sort(),
    );
    for (const f of listed) expect(sinks.written.get(f.name)!.length, f.name).toBe(f.bytes);
    // What the page checks the browser's storage for: the weight files and masks, less their headers.
    const stored = listed.filter((f) => f.name.endsWith('.safetensors')).reduce((a, f) => a + f.bytes, 0);
    expect(s.exportBytes()).toBeLessThanOrEqual(stored);
    expect(s.exportBytes()).toBeGreaterThan(stored - 20_000);
    expect(sinks.written.get('tokenizer.json')).toEqual(tokenizerBytes);
    const recipe = JSON.parse(new TextDecoder().decode(sinks.written.get('recipe.json')!));
    expect(recipe.notes).toContain('pruned a block at a time within the memory budget');
    expect(JSON.stringify(recipe)).toContain(String(bpb(dense)));
  });

  it('refuses what needs the whole model at once, naming why', async () => {
    const s = await streamed();
    await expect(s.prune({ ...WANDA, scope: 'global' })).rejects.toThrow(/block at a time.*global/i);
    await expect(s.prune({ ...WANDA, allocation: 'owl' })).rejects.toThrow(/block at a time.*OWL/);
    await expect(s.prune({ ...WANDA, method: 'taylor' })).rejects.toThrow(/gradients/);
    // Nothing was lost: it still prunes.
    expect((await s.prune(WANDA)).sparsity).toBeCloseTo(0.5, 2);
  });

  it('refuses a budget it cannot fit even a block at a time, and a run that would not fit', async () => {
    await expect(streamed(1e6)).rejects.toThrow(ModelError);
    await expect(streamed(1e6)).rejects.toThrow(/, and a block at a time about \d+ MB \(the runtime/);
    const least = (await streamed()).summary().streamed!.blockAtATime;
    const s = await streamed(least + 1000);
    await expect(s.prune({ ...WANDA, method: 'sparsegpt' })).rejects.toThrow(/over the memory budget/);
  });

  it('takes another window or text, refusing one it cannot hold and keeping the one it had', async () => {
    const s = await streamed();
    const dense = await s.evaluate();
    expect(() => s.useEvalSet(null, { context: 99 })).toThrow(/does not fit the model's context/);
    expect(s.evalWindow).toBe(16);
    expect(bpb(await s.evaluate())).toBe(bpb(dense));
    expect(s.useEvalSet(parseDataSet(EVAL, 'x'), { context: 8 })).toEqual({ windows: expect.any(Number) });
    expect(s.summary().evalWindow).toBe(8);
    expect(bpb(await s.evaluate())).not.toBe(bpb(dense));
    expect(() => s.useEvalSet(parseDataSet(text('short'), 'x'), { context: 8, name: 'your text' })).toThrow(
      /your text is too short/,
    );
    expect(s.summary()).toMatchObject({ evalWindow: 8, evalSet: { kind: 'text', bytes: EVAL_TEXT.length } });
  });
});
