// GPT2LMHeadModel's forward pass on TensorFlow.js, following `transformers`' modeling_gpt2:
// pre-LN blocks, fused c_attn (Conv1D, [in, out]) split into q, k, v, causal attention, tanh GELU,
// final ln_f and an lm_head tied to the token embedding unless the checkpoint holds its own.
// In three stages (embed, one block, head) so block-by-block calibration can run one block at a time.
import * as tf from '@tensorflow/tfjs';
import type { Gpt2Config } from './config';
import type { ForwardContext } from './layers';
import { GPT2_PREFIX, linearSpecs } from './schema';
import type { ModelStages } from './types';

export function gpt2Stages(config: Gpt2Config): ModelStages {
  const linears = linearSpecs(config);
  const d = config.nEmbd;
  const eps = config.layerNormEps;
  return {
    embed(ctx: ForwardContext, input: tf.Tensor): tf.Tensor {
      const ids = input as tf.Tensor2D;
      const t = ids.shape[1];
      if (t > config.nPositions) throw new Error(`gpt2: ${t} tokens exceed the context of ${config.nPositions}`);
      const wte = ctx.param(`${GPT2_PREFIX}wte.weight`);
      const tokens = ctx.options.oneHotEmbedding
        ? tf.reshape(tf.matMul(tf.oneHot(tf.reshape(ids, [-1]), config.vocabSize), wte), [...ids.shape, d])
        : tf.gather(wte, ids);
      const positions = tf.slice(ctx.param(`${GPT2_PREFIX}wpe.weight`), [0, 0], [t, d]);
      // Token pruning drops rows of h between blocks; positions are already embedded, and the kept
      // rows stay in order, so the causal mask over the survivors is still the right one.
      ctx.startTokens(t);
      return tf.add(tokens, positions);
    },

    block(ctx: ForwardContext, i: number, h: tf.Tensor): tf.Tensor {
      const p = `${GPT2_PREFIX}h.${i}`;
      const [qkvSpec, attnOutSpec, fcSpec, projSpec] = linears.slice(4 * i, 4 * i + 4);
      return ctx.residualBlock(i, h, {
        attention: (x) => {
          const qkv = ctx.linear(qkvSpec, ctx.layerNorm(`${p}.ln_1`, x, eps));
          const width = qkv.shape[2]! / 3; // [q | k | v], each H·dh wide (H may be pruned)
          const opts = { headDim: d / config.nHead, causal: true };
          return ctx.linear(attnOutSpec, ctx.packedAttention(i, qkv, [width, width], opts));
        },
        mlp: (x) => {
          const inner = ctx.activate(config.activation, ctx.linear(fcSpec, ctx.layerNorm(`${p}.ln_2`, x, eps)));
          return ctx.linear(projSpec, ctx.maskNeurons(i, inner));
        },
      });
    },

    head(ctx: ForwardContext, h: tf.Tensor): tf.Tensor {
      const [b, rows] = h.shape;
      const final = tf.reshape(ctx.layerNorm(`${GPT2_PREFIX}ln_f`, h, eps), [-1, d]);
      const head = ctx.has('lm_head.weight') ? ctx.param('lm_head.weight') : ctx.param(`${GPT2_PREFIX}wte.weight`); // both [vocab, d]
      // One row per position that survived token pruning (all of them without it).
      return tf.reshape(tf.matMul(final, head, false, true), [b, rows!, config.vocabSize]);
    },
  };
}
