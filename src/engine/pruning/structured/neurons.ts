// FFN-neuron importance on calibration data, [layer][neuron], higher = more important, and neuron
// masks from it (width pruning of the intermediate layer, as in LLM-Pruner, Ma et al. 2023).
//
// - 'activation': ‖a_j‖₂ over every calibration token × ‖w_j‖₂, where a_j is the neuron's
//   activation (after the nonlinearity) and w_j the column of the FFN output projection it writes
//   into the residual stream: the size of what the neuron adds to the output, in the spirit of
//   Wanda's |W|·‖X‖ (Sun et al. 2023, "A Simple and Effective Pruning Approach for Large Language
//   Models") with the neuron as the unit.
// - 'taylor': E_x |Σ_tokens a_j · ∂L(x)/∂a_j|, the first-order loss change of zeroing the neuron
//   (Molchanov et al. 2017; see gates.ts).
// Scores are taken under the given masks: a masked neuron scores 0.
import * as tf from '@tensorflow/tfjs';
import { ffnSize, numLayers, type ModelConfig } from '../../model/config';
import { linearSpecs } from '../../model/schema';
import type { Weights } from '../../model/types';
import { collectActivationStats } from '../block-calibration';
import type { CalibrationData, StatsOptions } from '../calibration';
import { gateImportance } from './gates';
import { maskFromScores, type StructuredAmount, type StructuredScope, type UnitMask } from './select';

export type NeuronScoreMethod = 'activation' | 'taylor';
export type NeuronScoreOptions = StatsOptions;

/** ‖w_j‖₂ for each input feature j of every block's FFN output projection (per-weight mask applied). */
export async function ffnOutputColumnNorms(
  config: ModelConfig,
  weights: Weights,
  masks?: Map<string, tf.Tensor>,
): Promise<number[][]> {
  const specs = linearSpecs(config).filter((s) => s.role === 'ffn_out');
  const out: number[][] = [];
  for (const spec of specs) {
    const norms = tf.tidy(() => {
      const w = weights.get(spec.weight)!;
      const m = masks?.get(spec.weight);
      // in_out (GPT-2 Conv1D) stores [inner, d]: neuron j is row j; out_in (nn.Linear) [d, inner]: column j.
      return tf.sqrt(tf.sum(tf.square(m ? tf.mul(w, m) : w), spec.layout === 'in_out' ? 1 : 0));
    });
    out.push(Array.from(await norms.data()));
    norms.dispose();
  }
  return out;
}

export async function neuronScores(
  config: ModelConfig,
  weights: Weights,
  data: CalibrationData,
  method: NeuronScoreMethod,
  opts: NeuronScoreOptions = {},
): Promise<number[][]> {
  if (method === 'taylor') return gateImportance(config, weights, data, 'neurons', opts);
  const stats = await collectActivationStats(config, weights, data, opts);
  const cols = await ffnOutputColumnNorms(config, weights, opts.masks?.weights);
  const specs = linearSpecs(config).filter((s) => s.role === 'ffn_out');
  return Array.from({ length: numLayers(config) }, (_, l) => {
    const sq = stats.sqSum.get(specs[l].weight); // absent when the FFN sublayer is removed
    return Array.from({ length: ffnSize(config) }, (_, j) => (sq ? Math.sqrt(sq[j]) * cols[l][j] : 0));
  });
}

/** neurons mask ([layer][neuron] 0/1, ModelMasks.neurons) removing the lowest-scoring neurons. */
export function neuronMaskFromScores(
  scores: number[][],
  amount: StructuredAmount,
  scope: StructuredScope = 'layer',
): UnitMask {
  return maskFromScores(scores, amount, scope);
}
