// Every method of the catalogue on every language-model family: GPT-2 and the Llama family
// (Llama with grouped-query attention, Qwen2 tied with q/k/v biases, Mistral with a sliding window).
// Each recipe must run, remove what it says it removes and leave a finite metric.
import { describe, expect, it } from 'vitest';
import { Pruner } from './pruner';
import { attentionMaps, predictions, saliency } from './inspect';
import { ModelSession } from '../session';
import { byteLevelTokenizerJson } from '../model/tokenizer';
import {
  randomHostWeights,
  TINY_GPT2_CONFIG,
  TINY_LLAMA_CONFIG,
  TINY_MISTRAL_CONFIG,
  TINY_QWEN2_CONFIG,
} from '../model/tiny-models';
import { numHeads, parseConfig } from '../model/config';
import { serializeWeights } from '../model/checkpoint';
import { writeSafetensors } from '../io/safetensors';
import { GRANULARITIES, METHODS, scoresFor, type StructuredGranularity } from '../pruning/catalogue';

const text = (s: string) => {
  const bytes = new TextEncoder().encode(s);
  return writeSafetensors({ bytes: { dtype: 'U8', shape: [bytes.length], data: bytes } });
};

function open(raw: Record<string, unknown>): ModelSession {
  const json = { ...raw, vocab_size: 256 };
  return ModelSession.open({
    config: json,
    weights: serializeWeights(randomHostWeights(parseConfig(json), 5)),
    tokenizer: byteLevelTokenizerJson(),
    evalSet: text('And God said, Let there be light: and there was light. '.repeat(3)),
    calibSet: text('In the beginning God created the heaven and the earth. '.repeat(4)),
  });
}

const FAMILIES = {
  gpt2: { ...TINY_GPT2_CONFIG },
  llama: { ...TINY_LLAMA_CONFIG, max_position_embeddings: 16 },
  qwen2: { ...TINY_QWEN2_CONFIG, max_position_embeddings: 16 },
  mistral: { ...TINY_MISTRAL_CONFIG, max_position_embeddings: 16 },
};
const calibration = { source: 'train' as const, count: 2, seed: 1 };
const structured = GRANULARITIES.filter((g) => !g.usesMethod).map((g) => g.id as StructuredGranularity);

describe.each(Object.entries(FAMILIES))('%s', (_, raw) => {
  const session = open(raw);
  const pruner = new Pruner(session);

  it.each(METHODS.map((m) => m.id))('prunes by %s, unstructured and 2:4', async (method) => {
    const r = await pruner.measure({ method, sparsity: 0.5, calibration });
    expect(r.sparsity).toBeCloseTo(0.5, 1);
    expect(Number.isFinite(r.metric.kind === 'lm' ? r.metric.bitsPerByte : Number.NaN)).toBe(true);
    const nm = await pruner.measure({ method, sparsity: 0.5, nm: { n: 2, m: 4 }, calibration });
    expect(nm.sparsity).toBeCloseTo(0.5, 6);
  });

  it('shows attention maps per query head, saliency by both methods and the next-token distribution', async () => {
    const ids = session.checkpoint.tokenizer!.encode('Let there');
    const maps = await attentionMaps(session.config, session.weights, ids);
    expect(maps.layers.map((l) => l.heads.length)).toEqual(maps.layers.map(() => numHeads(session.config)));
    for (const l of maps.layers) for (const h of l.heads) expect(h.map!.length).toBe(ids.length * ids.length);
    const s = await saliency(session.config, session.weights, ids);
    expect(s.gradientTimesInput!.raw.length).toBe(ids.length);
    expect(s.rollout.raw.length).toBe(ids.length);
    expect([...s.gradientTimesInput!.raw].every(Number.isFinite)).toBe(true);
    const p = await predictions(session.config, session.weights, ids, {
      topK: 3,
      tokenizer: session.checkpoint.tokenizer,
    });
    expect(p.kind).toBe('causal-lm');
    expect(p.top).toHaveLength(3);
    expect([...p.probs].reduce((a, v) => a + v, 0)).toBeCloseTo(1, 4);
  });

  it.each(structured.flatMap((g) => scoresFor(g, 'causal-lm').map((s) => [g, s.id] as const)))(
    'removes %s by %s',
    async (granularity, score) => {
      const r = await pruner.measureStructured({ granularity, score, amount: 0.5, calibration });
      expect(r.flops).toBeLessThan(r.denseFlops);
      expect(Number.isFinite(r.metric.kind === 'lm' ? r.metric.bitsPerByte : Number.NaN)).toBe(true);
    },
  );
});
