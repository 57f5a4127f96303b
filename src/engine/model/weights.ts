// Moving checkpoint tensors between the host (Float32Arrays) and TensorFlow.js.
import * as tf from '@tensorflow/tfjs';
import type { HostTensor } from './checkpoint';
import type { Weights } from './types';

export function toTfWeights(host: Map<string, HostTensor>): Weights {
  const out: Weights = new Map();
  for (const [name, t] of host) out.set(name, tf.tensor(t.data, t.shape, 'float32'));
  return out;
}

export async function toHostWeights(weights: Weights): Promise<Map<string, HostTensor>> {
  const out = new Map<string, HostTensor>();
  for (const [name, t] of weights) out.set(name, { shape: t.shape.slice(), data: (await t.data()) as Float32Array });
  return out;
}
