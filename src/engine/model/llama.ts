// The Llama family's forward pass on TensorFlow.js (LlamaForCausalLM, and Qwen2ForCausalLM and
// MistralForCausalLM on the same code), following `transformers`' modeling_llama: token embedding,
// pre-norm blocks with RMSNorm, attention with rotary position embeddings and grouped-query
// key/value heads (a sliding window for Mistral), a SwiGLU FFN down(silu(gate(x)) · up(x)), a final
// RMSNorm and an LM head tied to the embedding when the config says so.
import * as tf from '@tensorflow/tfjs';
import type { LlamaConfig } from './config';
import type { ForwardContext } from './layers';
import { ropeInvFreq } from './rotary';
import { LLAMA_PREFIX, linearSpecs } from './schema';
import type { ModelStages } from './types';

export function llamaStages(config: LlamaConfig): ModelStages {
  const linears = linearSpecs(config);
  const eps = config.rmsNormEps;
  const invFreq = ropeInvFreq(config);
  const embed = `${LLAMA_PREFIX}embed_tokens.weight`;
  return {
    embed(ctx: ForwardContext, input: tf.Tensor): tf.Tensor {
      const ids = input as tf.Tensor2D;
      const table = ctx.param(embed);
      ctx.startTokens(ids.shape[1]);
      return ctx.options.oneHotEmbedding
        ? tf.reshape(tf.matMul(tf.oneHot(tf.reshape(ids, [-1]), config.vocabSize), table), [
            ...ids.shape,
            config.hiddenSize,
          ])
        : tf.gather(table, ids);
    },

    block(ctx: ForwardContext, i: number, h: tf.Tensor): tf.Tensor {
      const p = `${LLAMA_PREFIX}layers.${i}`;
      const [qSpec, kSpec, vSpec, oSpec, gateSpec, upSpec, downSpec] = linears.slice(7 * i, 7 * i + 7);
      return ctx.residualBlock(i, h, {
        attention: (hIn) => {
          const x = ctx.rmsNorm(`${p}.input_layernorm.weight`, hIn, eps);
          const merged = ctx.attention(i, ctx.linear(qSpec, x), ctx.linear(kSpec, x), ctx.linear(vSpec, x), {
            headDim: config.headDim,
            causal: true,
            rotary: invFreq,
            slidingWindow: config.slidingLayers[i] ? config.slidingWindow : null,
          });
          return ctx.linear(oSpec, merged);
        },
        mlp: (hIn) => {
          const x = ctx.rmsNorm(`${p}.post_attention_layernorm.weight`, hIn, eps);
          const inner = tf.mul(ctx.activate(config.activation, ctx.linear(gateSpec, x)), ctx.linear(upSpec, x));
          return ctx.linear(downSpec, ctx.maskNeurons(i, inner));
        },
      });
    },

    head(ctx: ForwardContext, h: tf.Tensor): tf.Tensor {
      const [b, rows] = h.shape;
      const d = config.hiddenSize;
      const final = tf.reshape(ctx.rmsNorm(`${LLAMA_PREFIX}norm.weight`, h, eps), [-1, d]);
      const head = ctx.has('lm_head.weight') ? ctx.param('lm_head.weight') : ctx.param(embed); // [vocab, d], tied without its own
      // One row per position that survived token pruning (all of them without it).
      return tf.reshape(tf.matMul(final, head, false, true), [b, rows!, config.vocabSize]);
    },
  };
}
