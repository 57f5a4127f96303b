// Attention-head importance on calibration data, [layer][head], higher = more important, and head
// masks from it. Head pruning after Michel et al. (2019), "Are Sixteen Heads Really Better than
// One?": many heads can go with little loss, and which ones is read from calibration data.
//
// - 'norm': mean over calibration tokens of ‖context_h‖₂, the head's output before the output
//   projection mixes heads. A head that writes (almost) nothing can go. Cheap: one forward pass.
// - 'taylor': E_x |∂L(x)/∂ξ_h| for a continuous gate ξ_h on the head — exactly Michel et al.'s
//   importance (see gates.ts). Needs a backward pass.
// - 'entropy': the negated mean entropy (nats) of the head's attention distributions over every
//   query. Low entropy = focused attention; we rank focused heads as MORE important: heads that
//   attend almost uniformly compute a near-constant average of the values (close to a bias term),
//   while the heads Voita et al. (2019, "Analyzing Multi-Head Self-Attention: Specialized Heads Do
//   the Heavy Lifting, the Rest Can Be Pruned") found doing the work (positional, syntactic,
//   rare-word heads) are confident ones. Only an indirect signal: it never looks at what a head
//   writes, so prefer 'taylor' or 'norm' when they disagree. In a causal LM early queries see few
//   keys and have low entropy in every head alike, which shifts all heads equally.
// Scores are taken under the given masks: a masked head scores 0 ('norm', 'taylor') or −∞
// ('entropy'), so it ranks first to go and counts towards a ratio.
import * as tf from '@tensorflow/tfjs';
import { numHeads, numLayers, type ModelConfig } from '../../model/config';
import { forward } from '../../model/forward';
import type { Weights } from '../../model/types';
import { type CalibrationData, calibrationTokens, forEachBatch, type StatsOptions } from '../calibration';
import { gateImportance } from './gates';
import { maskFromScores, type StructuredAmount, type StructuredScope, type UnitMask } from './select';

export type HeadScoreMethod = 'norm' | 'taylor' | 'entropy';
export type HeadScoreOptions = StatsOptions;

export interface HeadStatistics {
  /** Mean ‖context_h‖₂ per token, [layer][head]. */
  norm: number[][];
  /** Mean attention entropy per query in nats, [layer][head]; NaN where the sublayer is removed. */
  entropy: number[][];
  /** Calibration tokens (= queries) averaged over. */
  tokens: number;
}

/** Head-output norms and attention entropies in one pass over the calibration data. */
export async function headStatistics(
  config: ModelConfig,
  weights: Weights,
  data: CalibrationData,
  opts: HeadScoreOptions = {},
): Promise<HeadStatistics> {
  const layers = numLayers(config);
  const heads = numHeads(config);
  const normSum = Array.from({ length: layers }, () => new Float64Array(heads));
  const entSum = Array.from({ length: layers }, () => new Float64Array(heads));
  await forEachBatch(config, data, opts, async (b) => {
    const out = tf.tidy(() => {
      const r = forward(config, weights, b.input, { masks: opts.masks, capture: { headStats: true } });
      return { norm: r.headNormSum!, ent: r.attentionEntropySum! };
    });
    for (let l = 0; l < layers; l++) {
      const n = out.norm[l];
      const h = out.ent[l];
      if (!n || !h) continue;
      const nv = await n.data();
      const hv = await h.data();
      for (let j = 0; j < heads; j++) {
        normSum[l][j] += nv[j];
        entSum[l][j] += hv[j];
      }
    }
    tf.dispose([...out.norm, ...out.ent].filter((t): t is tf.Tensor => t !== undefined));
  });
  const tokens = calibrationTokens(config, data);
  const attnOn = (l: number) => opts.masks?.attention?.[l] !== false;
  return {
    norm: normSum.map((row) => Array.from(row, (v) => v / tokens)),
    entropy: entSum.map((row, l) => Array.from(row, (v) => (attnOn(l) ? v / tokens : NaN))),
    tokens,
  };
}

/** [layer][head] importance by one method (higher = keep). */
export async function headScores(
  config: ModelConfig,
  weights: Weights,
  data: CalibrationData,
  method: HeadScoreMethod,
  opts: HeadScoreOptions = {},
): Promise<number[][]> {
  if (method === 'taylor') return gateImportance(config, weights, data, 'heads', opts);
  const stats = await headStatistics(config, weights, data, opts);
  if (method === 'norm') return stats.norm;
  return stats.entropy.map((row, l) =>
    row.map((h, j) => (Number.isNaN(h) || opts.masks?.heads?.[l]?.[j] === 0 ? -Infinity : -h)),
  );
}

/**
 * heads mask ([layer][head] 0/1, ModelMasks.heads) removing the lowest-scoring heads: a ratio of all
 * heads (per layer or globally) or explicit counts per layer. A ratio below 1 leaves every layer at
 * least one head.
 */
export function headMaskFromScores(
  scores: number[][],
  amount: StructuredAmount,
  scope: StructuredScope = 'layer',
): UnitMask {
  return maskFromScores(scores, amount, scope);
}
