// One entry point for every architecture's forward pass.
import type * as tf from '@tensorflow/tfjs';
import type { ModelConfig } from './config';
import { gpt2Forward } from './gpt2';
import { vitForward } from './vit';
import type { ForwardOptions, ForwardOutput, Weights } from './types';

/** input: token ids [B, T] (int32) for GPT-2; normalised pixels [B, C, H, W] for ViT. */
export function forward(
  config: ModelConfig,
  weights: Weights,
  input: tf.Tensor,
  options: ForwardOptions = {},
): ForwardOutput {
  return config.kind === 'gpt2'
    ? gpt2Forward(config, weights, input as tf.Tensor2D, options)
    : vitForward(config, weights, input as tf.Tensor4D, options);
}
