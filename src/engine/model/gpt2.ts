// GPT2LMHeadModel's forward pass on TensorFlow.js, following `transformers`' modeling_gpt2:
// pre-LN blocks, fused c_attn (Conv1D, [in, out]) split into q, k, v, causal attention, tanh GELU,
// final ln_f and an lm_head tied to the token embedding unless the checkpoint holds its own.
import * as tf from '@tensorflow/tfjs';
import type { Gpt2Config } from './config';
import { activate, ForwardContext } from './layers';
import { GPT2_PREFIX, linearSpecs } from './schema';
import type { ForwardOptions, ForwardOutput, Weights } from './types';
import { tokenCounts } from './tokens';

export function gpt2Forward(
  config: Gpt2Config,
  weights: Weights,
  ids: tf.Tensor2D,
  options: ForwardOptions = {},
): ForwardOutput {
  const [b, t] = ids.shape;
  if (t > config.nPositions) throw new Error(`gpt2: ${t} tokens exceed the context of ${config.nPositions}`);
  const ctx = new ForwardContext(weights, options);
  const linears = linearSpecs(config);
  const d = config.nEmbd;
  const eps = config.layerNormEps;
  const wte = ctx.param(`${GPT2_PREFIX}wte.weight`);

  const tokens = options.oneHotEmbedding
    ? tf.reshape(tf.matMul(tf.oneHot(tf.reshape(ids, [-1]), config.vocabSize), wte), [...ids.shape, d])
    : tf.gather(wte, ids);
  const positions = tf.slice(ctx.param(`${GPT2_PREFIX}wpe.weight`), [0, 0], [t, d]);
  let h = tf.add(tokens, positions);
  // Token pruning drops rows of h between blocks; positions are already embedded, and the kept rows
  // stay in order, so the causal mask over the survivors is still the right one.
  const counts = options.tokenKeep ? tokenCounts(config, options.tokenKeep, { masks: options.masks, seq: t }) : null;

  for (let i = 0; i < config.nLayer; i++) {
    const p = `${GPT2_PREFIX}h.${i}`;
    const [qkvSpec, attnOutSpec, fcSpec, projSpec] = linears.slice(4 * i, 4 * i + 4);
    h = ctx.pruneTokens(i, h, counts, 'causal');
    ctx.out.hiddenIn?.push(h);
    if (ctx.keepAttention(i)) {
      const qkv = ctx.linear(qkvSpec, ctx.layerNorm(`${p}.ln_1`, h, eps));
      const [q, k, v] = tf.split(qkv, 3, -1); // [q | k | v], each H·dh wide (H may be pruned)
      const merged = ctx.attention(i, q, k, v, d / config.nHead, true);
      h = tf.add(h, ctx.linear(attnOutSpec, merged));
    }
    if (ctx.keepMlp(i)) {
      const inner = activate(config.activation, ctx.linear(fcSpec, ctx.layerNorm(`${p}.ln_2`, h, eps)));
      h = tf.add(h, ctx.linear(projSpec, ctx.maskNeurons(i, inner)));
    }
    ctx.out.hiddenOut?.push(h);
  }

  const final = tf.reshape(ctx.layerNorm(`${GPT2_PREFIX}ln_f`, h, eps), [-1, d]);
  const head = ctx.has('lm_head.weight') ? ctx.param('lm_head.weight') : wte; // both [vocab, d]
  // One row per position that survived token pruning (all of them without it).
  const logits = tf.reshape(tf.matMul(final, head, false, true), [b, h.shape[1]!, config.vocabSize]);
  return { logits, ...ctx.out };
}
