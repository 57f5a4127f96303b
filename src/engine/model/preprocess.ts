// The model's input as `transformers`' processors make it, from raw pixels.
import * as tf from '@tensorflow/tfjs';
import type { VitConfig } from './config';

/** ViTImageProcessor's defaults: rescale to [0, 1], then normalise with mean 0.5 and std 0.5. */
export function pixelsToInput(config: VitConfig, pixels: Uint8Array, count: number): tf.Tensor4D {
  const { numChannels: c, imageSize: s } = config;
  return tf.tidy(() => tf.sub(tf.mul(tf.tensor4d(pixels, [count, c, s, s], 'float32'), 2 / 255), 1) as tf.Tensor4D);
}
