// ViTForImageClassification's forward pass on TensorFlow.js, following `transformers`' modeling_vit:
// Conv2d patch embedding (kernel = stride = patch), a CLS token, learned positions, pre-LN blocks
// (layernorm_before → attention, layernorm_after → FFN), final layernorm, classifier on CLS.
// In three stages (embed, one block, head) so block-by-block calibration can run one block at a time.
import * as tf from '@tensorflow/tfjs';
import type { VitConfig } from './config';
import type { ForwardContext } from './layers';
import { linearSpecs } from './schema';
import type { ModelStages } from './types';

export function vitStages(config: VitConfig): ModelStages {
  const linears = linearSpecs(config);
  const { imageSize, patchSize: p, hiddenSize: d, layerNormEps: eps } = config;
  const g = imageSize / p;
  return {
    /** input: pixel values [B, C, H, W], already normalised as the image processor does. */
    embed(ctx: ForwardContext, input: tf.Tensor): tf.Tensor {
      const [b, c, hgt, wid] = input.shape;
      if (c !== config.numChannels || hgt !== imageSize || wid !== imageSize) {
        throw new Error(
          `vit: expected images [B, ${config.numChannels}, ${imageSize}, ${imageSize}], got [${input.shape}]`,
        );
      }
      // Patches in the conv output's row-major order, each flattened as (channel, row, column).
      const patches = tf.reshape(tf.transpose(tf.reshape(input, [b, c, g, p, g, p]), [0, 2, 4, 1, 3, 5]), [
        b,
        g * g,
        c * p * p,
      ]);
      const embedded = ctx.linear(linears[0], patches);
      const cls = tf.tile(ctx.param('vit.embeddings.cls_token'), [b, 1, 1]);
      // Token pruning keeps CLS (index 0 throughout), which is all the classifier reads.
      ctx.startTokens(g * g + 1);
      return tf.add(tf.concat([cls, embedded], 1), ctx.param('vit.embeddings.position_embeddings'));
    },

    block(ctx: ForwardContext, i: number, h: tf.Tensor): tf.Tensor {
      const pre = `vit.encoder.layer.${i}`;
      const [qSpec, kSpec, vSpec, oSpec, inSpec, outSpec] = linears.slice(1 + 6 * i, 7 + 6 * i);
      return ctx.residualBlock(i, h, {
        attention: (hIn) => {
          const x = ctx.layerNorm(`${pre}.layernorm_before`, hIn, eps);
          const dh = d / config.numHeads;
          const merged = ctx.stackedAttention(i, x, [qSpec, kSpec, vSpec], { headDim: dh, causal: false });
          return ctx.linear(oSpec, merged);
        },
        mlp: (x) => {
          const inner = ctx.activate(
            config.activation,
            ctx.linear(inSpec, ctx.layerNorm(`${pre}.layernorm_after`, x, eps)),
          );
          return ctx.linear(outSpec, ctx.maskNeurons(i, inner));
        },
      });
    },

    head(ctx: ForwardContext, h: tf.Tensor): tf.Tensor {
      const final = ctx.layerNorm('vit.layernorm', h, eps);
      const clsOut = tf.reshape(tf.slice(final, [0, 0, 0], [h.shape[0]!, 1, d]), [h.shape[0]!, d]);
      return ctx.linear(linears[linears.length - 1], clsOut);
    },
  };
}
