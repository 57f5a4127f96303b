// One entry point for every architecture's forward pass, composed of its stages.
import * as tf from '@tensorflow/tfjs';
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
  // Each block's intermediates are freed as it ends, but for its output and what it captured:
  // under the caller's one tidy they would all live until the end (a 1,024-token window through
  // GPT-2 small holds ~480 MB per block, past a tab's WASM heap over 12 blocks). Token pruning
  // reads the block before's attention, so that pass keeps the caller's scope. (A gradient tape
  // keeps what its backward pass needs whatever the scope.)
  for (let i = 0; i < numLayers(config); i++) {
    const hIn = h;
    if (options.tokenKeep) h = stages.block(ctx, i, hIn);
    else h = tf.tidy(() => ({ h: stages.block(ctx, i, hIn), out: ctx.out as tf.TensorContainer })).h as tf.Tensor;
  }
  return { logits: stages.head(ctx, h), ...ctx.out };
}
