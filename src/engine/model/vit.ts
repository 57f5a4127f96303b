// ViTForImageClassification's forward pass on TensorFlow.js, following `transformers`' modeling_vit:
// Conv2d patch embedding (kernel = stride = patch), a CLS token, learned positions, pre-LN blocks
// (layernorm_before → attention, layernorm_after → FFN), final layernorm, classifier on CLS.
import * as tf from '@tensorflow/tfjs';
import type { VitConfig } from './config';
import { activate, ForwardContext } from './layers';
import { linearSpecs } from './schema';
import type { ForwardOptions, ForwardOutput, Weights } from './types';
import { tokenCounts } from './tokens';

/** pixelValues: [B, C, H, W], already normalised as the image processor does. */
export function vitForward(
  config: VitConfig,
  weights: Weights,
  pixelValues: tf.Tensor4D,
  options: ForwardOptions = {},
): ForwardOutput {
  const [b, c, hgt, wid] = pixelValues.shape;
  const { imageSize, patchSize: p, hiddenSize: d, layerNormEps: eps } = config;
  if (c !== config.numChannels || hgt !== imageSize || wid !== imageSize) {
    throw new Error(
      `vit: expected images [B, ${config.numChannels}, ${imageSize}, ${imageSize}], got [${pixelValues.shape}]`,
    );
  }
  const ctx = new ForwardContext(weights, options);
  const linears = linearSpecs(config);
  const g = imageSize / p;

  // Patches in the conv output's row-major order, each flattened as (channel, row, column).
  const patches = tf.reshape(tf.transpose(tf.reshape(pixelValues, [b, c, g, p, g, p]), [0, 2, 4, 1, 3, 5]), [
    b,
    g * g,
    c * p * p,
  ]);
  const embedded = ctx.linear(linears[0], patches);
  const cls = tf.tile(ctx.param('vit.embeddings.cls_token'), [b, 1, 1]);
  let h = tf.add(tf.concat([cls, embedded], 1), ctx.param('vit.embeddings.position_embeddings'));
  // Token pruning keeps CLS (index 0 throughout), which is all the classifier reads.
  const counts = options.tokenKeep ? tokenCounts(config, options.tokenKeep, { masks: options.masks }) : null;

  for (let i = 0; i < config.numLayers; i++) {
    const pre = `vit.encoder.layer.${i}`;
    const [qSpec, kSpec, vSpec, oSpec, inSpec, outSpec] = linears.slice(1 + 6 * i, 7 + 6 * i);
    h = ctx.pruneTokens(i, h, counts, 'cls');
    ctx.out.hiddenIn?.push(h);
    if (ctx.keepAttention(i)) {
      const x = ctx.layerNorm(`${pre}.layernorm_before`, h, eps);
      const dh = d / config.numHeads;
      const merged = ctx.attention(i, ctx.linear(qSpec, x), ctx.linear(kSpec, x), ctx.linear(vSpec, x), dh, false);
      h = tf.add(h, ctx.linear(oSpec, merged));
    }
    if (ctx.keepMlp(i)) {
      const inner = activate(config.activation, ctx.linear(inSpec, ctx.layerNorm(`${pre}.layernorm_after`, h, eps)));
      h = tf.add(h, ctx.linear(outSpec, ctx.maskNeurons(i, inner)));
    }
    ctx.out.hiddenOut?.push(h);
  }

  const final = ctx.layerNorm('vit.layernorm', h, eps);
  const clsOut = tf.reshape(tf.slice(final, [0, 0, 0], [b, 1, d]), [b, d]);
  const logits = ctx.linear(linears[linears.length - 1], clsOut);
  return { logits, ...ctx.out };
}
