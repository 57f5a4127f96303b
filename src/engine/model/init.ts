// Fresh weights for a config, as `transformers` initialises them (normal(0, 0.02) matrices, unit
// layer-norm scales, zero biases; GPT-2's residual projections scaled by 1/√(2·layers)).
// Deterministic for a seed, so a training run can be repeated exactly.
import * as tf from '@tensorflow/tfjs';
import { numLayers, type ModelConfig } from './config';
import { paramSpecs } from './schema';
import type { Weights } from './types';

export function initWeights(config: ModelConfig, seed: number, std = 0.02): Weights {
  const residualStd = std / Math.sqrt(2 * numLayers(config));
  const weights: Weights = new Map();
  paramSpecs(config).forEach((spec, i) => {
    const t =
      spec.init === 'zeros'
        ? tf.zeros(spec.shape)
        : spec.init === 'ones'
          ? tf.ones(spec.shape)
          : tf.truncatedNormal(spec.shape, 0, spec.init === 'residual' ? residualStd : std, 'float32', seed + i);
    weights.set(spec.name, t);
  });
  return weights;
}
