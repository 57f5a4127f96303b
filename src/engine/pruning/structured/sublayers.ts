// FinerCut (Zhang et al. 2024, "FinerCut: Finer-grained Interpretable Layer Pruning for Large
// Language Models"): the pruning candidates are the individual sublayers — every attention and
// every FFN — not whole blocks. Greedily, one at a time, remove the candidate whose removal changes
// the model's output least on calibration data, given the ones already removed, until k are gone.
//
// Output change: we use the mean over calibration predictions (every position of every LM window,
// every image) of KL(p_ref ‖ p_pruned) between the next-token / class distributions of the
// starting model (the one under `masks`) and of the pruned candidate. FinerCut scores a candidate
// by how much the final output moves; KL of the output distribution is that movement measured
// where it matters for the loss: it is the expected extra cross-entropy, in nats, paid for
// predicting with the pruned model where the starting model's predictions are the target, and it
// needs no labels. Cost: about k · 2L forward passes over the calibration set.
import * as tf from '@tensorflow/tfjs';
import { numLayers, type ModelConfig } from '../../model/config';
import { forward } from '../../model/forward';
import type { ModelMasks, Weights } from '../../model/types';
import { type CalibrationData, defaultBatchSize, forEachBatch } from '../calibration';
import { klSum, logProbs } from '../../eval/divergence';

export type SublayerKind = 'attention' | 'mlp';

export interface Sublayer {
  layer: number;
  kind: SublayerKind;
}

export interface FinerCutStep extends Sublayer {
  /** Mean KL(p_ref ‖ p) in nats once this and every earlier step's sublayer are removed. */
  divergence: number;
}

export interface FinerCutOptions {
  /** Sublayers to remove. */
  count: number;
  /** Which sublayers may go (default both kinds). */
  kinds?: SublayerKind[];
  /** The starting model's masks; its outputs are the reference and its removed sublayers stay removed. */
  masks?: ModelMasks;
  batchSize?: number;
  signal?: AbortSignal;
  /** Fraction of all planned forward passes done, and the steps decided so far. */
  onProgress?: (fraction: number, order: FinerCutStep[]) => void;
}

export interface FinerCutResult {
  /** In removal order. */
  order: FinerCutStep[];
  /** ModelMasks.attention / mlp with the starting masks' removals and the new ones. */
  attention: boolean[];
  mlp: boolean[];
}

function withRemoved(base: ModelMasks | undefined, layers: number, removed: Sublayer[]): ModelMasks {
  const attention = Array.from({ length: layers }, (_, l) => base?.attention?.[l] !== false);
  const mlp = Array.from({ length: layers }, (_, l) => base?.mlp?.[l] !== false);
  for (const s of removed) (s.kind === 'attention' ? attention : mlp)[s.layer] = false;
  return { ...base, attention, mlp };
}

export async function finerCut(
  config: ModelConfig,
  weights: Weights,
  data: CalibrationData,
  opts: FinerCutOptions,
): Promise<FinerCutResult> {
  const layers = numLayers(config);
  const kinds = opts.kinds ?? ['attention', 'mlp'];
  const base = withRemoved(opts.masks, layers, []);
  const candidates: Sublayer[] = [];
  for (let l = 0; l < layers; l++) {
    for (const kind of ['attention', 'mlp'] as const) {
      if (kinds.includes(kind) && (kind === 'attention' ? base.attention : base.mlp)![l])
        candidates.push({ layer: l, kind });
    }
  }
  if (!Number.isInteger(opts.count) || opts.count < 0 || opts.count > candidates.length) {
    throw new Error(`FinerCut: cannot remove ${opts.count} of ${candidates.length} candidate sublayers`);
  }
  const batches = Math.ceil(data.count / (opts.batchSize ?? defaultBatchSize(data)));
  let total = 0;
  for (let s = 0; s < opts.count; s++) total += (candidates.length - s + 1) * batches;
  let done = 0;

  const order: FinerCutStep[] = [];
  let remaining = candidates;
  for (let step = 0; step < opts.count; step++) {
    const kl = new Float64Array(remaining.length);
    let rows = 0;
    // The reference is the starting model's own output, not the labels.
    await forEachBatch(config, data, { batchSize: opts.batchSize, signal: opts.signal }, async (b) => {
      const refLogP = logProbs(config, weights, b.input, opts.masks);
      rows += refLogP.shape[0]!;
      done++;
      try {
        for (let c = 0; c < remaining.length; c++) {
          opts.signal?.throwIfAborted();
          const masks = withRemoved(opts.masks, layers, [...order, remaining[c]]);
          const sum = tf.tidy(() => klSum(refLogP, forward(config, weights, b.input, { masks }).logits));
          kl[c] += (await sum.data())[0];
          sum.dispose();
          opts.onProgress?.(++done / total, order);
        }
      } finally {
        refLogP.dispose();
      }
    });
    let best = 0;
    for (let c = 1; c < remaining.length; c++) if (kl[c] < kl[best]) best = c; // ties: the earlier candidate
    order.push({ ...remaining[best], divergence: kl[best] / rows });
    remaining = remaining.filter((_, c) => c !== best);
    opts.onProgress?.(done / total, order);
  }
  const final = withRemoved(opts.masks, layers, order);
  return { order, attention: final.attention!, mlp: final.mlp! };
}
