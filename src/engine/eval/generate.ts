// Sampling a continuation from a causal LM: temperature sampling with a seeded generator, the
// context cropped to the model's window as it grows.
import * as tf from '@tensorflow/tfjs';
import type { TokenScoring } from '../model/tokens';
import { type CausalLmConfig, sequenceLength } from '../model/config';
import { forward } from '../model/forward';
import type { ModelMasks, Weights } from '../model/types';

export interface GenerateOptions {
  steps: number;
  temperature?: number; // 0 = greedy
  seed?: number;
  masks?: ModelMasks;
  /** Per-block token keep ratios (dynamic token pruning); the last position is always kept. */
  tokenKeep?: number[];
  tokenScoring?: TokenScoring;
  /** Checked before each step: a page that moved on need not wait for the rest of the steps. */
  signal?: AbortSignal;
}

export async function generate(
  config: CausalLmConfig,
  weights: Weights,
  prompt: number[],
  opts: GenerateOptions,
): Promise<number[]> {
  if (prompt.length === 0) throw new Error('generate: the prompt is empty');
  const temperature = opts.temperature ?? 0.8;
  let state = (opts.seed ?? 1) >>> 0;
  const random = () => {
    // xorshift32: enough for sampling, reproducible across machines
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 4294967296;
  };
  const ids = prompt.slice();
  for (let s = 0; s < opts.steps; s++) {
    opts.signal?.throwIfAborted();
    const window = ids.slice(-sequenceLength(config));
    const probsT = tf.tidy(() => {
      const { logits } = forward(config, weights, tf.tensor2d(window, [1, window.length], 'int32'), {
        masks: opts.masks,
        tokenKeep: opts.tokenKeep,
        tokenScoring: opts.tokenScoring,
      });
      // Under token pruning fewer rows come back; the last is always the last position's.
      const rows = logits.shape[1]!;
      const last = tf.reshape(tf.slice(logits, [0, rows - 1, 0], [1, 1, config.vocabSize]), [config.vocabSize]);
      return temperature > 0 ? tf.softmax(tf.div(last, temperature)) : last;
    });
    const probs = (await probsT.data()) as Float32Array;
    probsT.dispose();
    ids.push(temperature > 0 ? sampleIndex(probs, random()) : argmax(probs));
  }
  return ids.slice(prompt.length);
}

function argmax(v: Float32Array): number {
  let best = 0;
  for (let i = 1; i < v.length; i++) if (v[i] > v[best]) best = i;
  return best;
}

function sampleIndex(probs: Float32Array, u: number): number {
  let acc = 0;
  for (let i = 0; i < probs.length; i++) {
    acc += probs[i];
    if (u < acc) return i;
  }
  return probs.length - 1;
}
