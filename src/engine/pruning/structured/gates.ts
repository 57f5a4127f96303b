// First-order (Taylor) importance of structural units through continuous gates. Every head (or FFN
// neuron) is multiplied by a gate ξ = 1 in the forward pass; ∂L(x)/∂ξ for one example x is the
// first-order change of its loss when the unit is removed (ξ: 1 → 0). The importance is
// E_x |∂L(x)/∂ξ| over the calibration examples — Michel et al. (2019), "Are Sixteen Heads Really
// Better than One?", eq. 2 for heads; for a neuron with activation a_j, ∂L(x)/∂ξ_j =
// Σ_tokens a_j · ∂L(x)/∂a_j, Molchanov et al. (2017), "Pruning Convolutional Neural Networks for
// Resource Efficient Inference". The gates are [B, units], one per example, so a single backward
// pass over a batch yields every example's own gradient (examples do not interact).
import * as tf from '@tensorflow/tfjs';
import { ffnSize, numHeads, numLayers, type ModelConfig } from '../../model/config';
import { forward } from '../../model/forward';
import type { ForwardOptions, Weights } from '../../model/types';
import { type CalibrationData, exampleLossSum, forEachBatch, type StatsOptions } from '../calibration';

export type GatedUnit = 'heads' | 'neurons';

/** E_x |∂L(x)/∂ξ| per [layer][unit]; 0 for units of a removed sublayer. */
export async function gateImportance(
  config: ModelConfig,
  weights: Weights,
  data: CalibrationData,
  unit: GatedUnit,
  opts: StatsOptions = {},
): Promise<number[][]> {
  const layers = numLayers(config);
  const width = unit === 'heads' ? numHeads(config) : ffnSize(config);
  const active = Array.from(
    { length: layers },
    (_, l) => (unit === 'heads' ? opts.masks?.attention?.[l] : opts.masks?.mlp?.[l]) !== false,
  );
  const gated = active.flatMap((on, l) => (on ? [l] : []));
  const sums = Array.from({ length: layers }, () => new Float64Array(width));
  if (gated.length === 0) return sums.map((row) => Array.from(row));
  await forEachBatch(config, data, opts, async (b) => {
    const m = b.end - b.start;
    const grads = tf.tidy(() => {
      const f = (...gates: tf.Tensor[]) => {
        const perLayer: tf.Tensor[] = [];
        gated.forEach((l, i) => {
          perLayer[l] = gates[i];
        });
        const options: ForwardOptions = {
          masks: opts.masks,
          [unit === 'heads' ? 'headGates' : 'neuronGates']: perLayer,
        };
        return exampleLossSum(config, forward(config, weights, b.input, options).logits, b.targets, m);
      };
      return tf
        .grads(f)(gated.map(() => tf.ones([m, width])))
        .map((g) => tf.sum(tf.abs(g), 0));
    });
    for (let i = 0; i < gated.length; i++) {
      const g = await grads[i].data();
      const acc = sums[gated[i]];
      for (let j = 0; j < width; j++) acc[j] += g[j];
    }
    tf.dispose(grads);
  });
  return sums.map((row) => Array.from(row, (v) => v / data.count));
}
