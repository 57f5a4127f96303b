// The model's input as `transformers`' processors make it, from raw pixels.
import * as tf from '@tensorflow/tfjs';
import type { VitConfig } from './config';

/**
 * Per channel, input = pixel · scale + offset: preprocessor_config.json's rescale and normalisation
 * folded together ((pixel · rescale_factor − mean) / std).
 */
export interface ImageNormalization {
  scale: number[];
  offset: number[];
}

/**
 * 8-bit pixels [count, C, H, W] → the model's input. Without `normalization`, ViTImageProcessor's
 * defaults: rescale to [0, 1], then normalise with mean 0.5 and std 0.5.
 */
export function pixelsToInput(
  config: VitConfig,
  pixels: Uint8Array,
  count: number,
  normalization?: ImageNormalization | null,
): tf.Tensor4D {
  const { numChannels: c, imageSize: s } = config;
  return tf.tidy(() => {
    const x = tf.tensor4d(pixels, [count, c, s, s], 'float32');
    if (!normalization) return tf.sub(tf.mul(x, 2 / 255), 1) as tf.Tensor4D;
    const scale = tf.tensor4d(normalization.scale, [1, c, 1, 1]);
    const offset = tf.tensor4d(normalization.offset, [1, c, 1, 1]);
    return tf.add(tf.mul(x, scale), offset) as tf.Tensor4D;
  });
}
