// One entry point for every architecture's forward pass, composed of its stages.
import type * as tf from '@tensorflow/tfjs';
import { numLayers, type ModelConfig } from './config';
import { gpt2Stages } from './gpt2';
import { ForwardContext } from './layers';
import { llamaStages } from './llama';
import type { ForwardOptions, ForwardOutput, ModelStages, Weights } from './types';
import { vitStages } from './vit';

export function modelStages(config: ModelConfig): ModelStages {
  switch (config.kind) {
    case 'gpt2':
      return gpt2Stages(config);
    case 'llama':
      return llamaStages(config);
    case 'vit':
      return vitStages(config);
  }
}

/** input: token ids [B, T] (int32) for a language model; normalised pixels [B, C, H, W] for ViT. */
export function forward(
  config: ModelConfig,
  weights: Weights,
  input: tf.Tensor,
  options: ForwardOptions = {},
): ForwardOutput {
  const stages = modelStages(config);
  const ctx = new ForwardContext(config, weights, options);
  let h = stages.embed(ctx, input);
  for (let i = 0; i < numLayers(config); i++) h = stages.block(ctx, i, h);
  return { logits: stages.head(ctx, h), ...ctx.out };
}
