// Whole-block (depth) pruning from how much each block changes the hidden state on calibration data.
//
// - Angular distance, Gromov et al. (2024), "The Unreasonable Ineffectiveness of the Deeper
//   Layers": d(x, y) = arccos(cos(x, y)) / π ∈ [0, 1] between the representation entering block ℓ
//   and the one leaving block ℓ + n − 1. To remove n blocks they remove the window of n consecutive
//   blocks with the smallest distance between its ends (one block at a time would ignore that
//   neighbours can undo each other). Gromov et al. read the final token only; we average over every
//   calibration token by default ('all'), or read only the token the output uses ('final': the LM's
//   last position, ViT's CLS).
// - Block Influence, Men et al. (2024), "ShortGPT: Layers in Large Language Models are More
//   Redundant Than You Expect": BI = 1 − E[cos(h_in, h_out)] per block; the k lowest go.
// Removing a block = both of its sublayers off (ModelMasks.attention/mlp false): the residual
// stream passes it unchanged, which is exactly skipping it.
import * as tf from '@tensorflow/tfjs';
import { numLayers, type ModelConfig } from '../../model/config';
import { forward } from '../../model/forward';
import type { Weights } from '../../model/types';
import { type CalibrationData, forEachBatch, type StatsOptions } from '../calibration';

export type BlockPosition = 'all' | 'final';

export interface BlockSimilarity {
  /**
   * angular[i][j] for j ≥ i: mean angular distance between the input of block i and the output of
   * block j, i.e. how far blocks i..j together turn the representation (NaN for j < i).
   */
  angular: number[][];
  /** ShortGPT's Block Influence of each block: mean of 1 − cos(input, output). */
  influence: number[];
  /** Tokens averaged over. */
  tokens: number;
}

/** cos from a dot product and squared norms, in float64; a zero vector counts as unchanged. */
function cosine(dot: number, n1: number, n2: number): number {
  if (n1 === 0 || n2 === 0) return n1 === n2 ? 1 : 0;
  return Math.max(-1, Math.min(1, dot / Math.sqrt(n1 * n2)));
}

export async function blockSimilarity(
  config: ModelConfig,
  weights: Weights,
  data: CalibrationData,
  opts: StatsOptions & { position?: BlockPosition } = {},
): Promise<BlockSimilarity> {
  const layers = numLayers(config);
  const angular = Array.from({ length: layers }, () => new Array<number>(layers).fill(0));
  const influence = new Array<number>(layers).fill(0);
  let tokens = 0;
  await forEachBatch(config, data, opts, async (b) => {
    // Per-token dot products and squared norms ([B·T] each) leave the device, not hidden states;
    // the cosine is then taken in float64, so an unchanged state gives exactly 0.
    const { nIn, nOut, dots } = tf.tidy(() => {
      const r = forward(config, weights, b.input, { masks: opts.masks, capture: { hidden: true } });
      const pick = (h: tf.Tensor) => {
        if (opts.position !== 'final') return h;
        const t = h.shape[1]!;
        return tf.slice(h, [0, config.kind === 'vit' ? 0 : t - 1, 0], [-1, 1, -1]);
      };
      const hin = r.hiddenIn!.map(pick);
      const hout = r.hiddenOut!.map(pick);
      const dot = (a: tf.Tensor, c: tf.Tensor) => tf.reshape(tf.sum(tf.mul(a, c), -1), [-1]);
      return {
        nIn: hin.map((h) => dot(h, h)),
        nOut: hout.map((h) => dot(h, h)),
        dots: hin.map((a, i) => hout.slice(i).map((c) => dot(a, c))),
      };
    });
    const read = (ts: tf.Tensor[]) => Promise.all(ts.map((t) => t.data() as Promise<Float32Array>));
    const ins = await read(nIn);
    const outs = await read(nOut);
    for (let i = 0; i < layers; i++) {
      const row = await read(dots[i]);
      for (let j = i; j < layers; j++) {
        const d = row[j - i];
        for (let k = 0; k < d.length; k++) {
          const c = cosine(d[k], ins[i][k], outs[j][k]);
          angular[i][j] += Math.acos(c) / Math.PI;
          if (i === j) influence[i] += 1 - c;
        }
      }
    }
    tokens += ins[0].length;
    tf.dispose([...nIn, ...nOut, ...dots.flat()]);
  });
  return {
    angular: angular.map((row, i) => row.map((v, j) => (j < i ? NaN : v / tokens))),
    influence: influence.map((v) => v / tokens),
    tokens,
  };
}

/** Angular distance across each single block (the diagonal). */
export const angularPerBlock = (s: BlockSimilarity): number[] => s.angular.map((row, i) => row[i]);

/** Gromov et al.: the n consecutive blocks whose ends are closest (ties: the earliest window). */
export function bestWindow(s: BlockSimilarity, n: number): { start: number; distance: number } {
  const layers = s.angular.length;
  if (!Number.isInteger(n) || n < 1 || n > layers) throw new Error(`window of ${n} blocks in a ${layers}-block model`);
  let best = { start: 0, distance: Infinity };
  for (let i = 0; i + n <= layers; i++) {
    const d = s.angular[i][i + n - 1];
    if (d < best.distance) best = { start: i, distance: d };
  }
  return best;
}

/** Blocks ordered first-to-remove first: lowest score, ties to the earlier block. */
export function removalOrder(scores: number[]): number[] {
  return scores.map((_, i) => i).sort((a, b) => scores[a] - scores[b] || a - b);
}

export type BlockMethod = 'angular-window' | 'angular' | 'influence';

export interface BlockRemoval {
  removed: number[];
  /** ModelMasks.attention / mlp: false for the removed blocks. */
  attention: boolean[];
  mlp: boolean[];
}

export function blockMasks(layers: number, removed: number[]): BlockRemoval {
  const off = new Set(removed);
  const keep = Array.from({ length: layers }, (_, l) => !off.has(l));
  return { removed: [...removed].sort((a, b) => a - b), attention: keep, mlp: keep.slice() };
}

/**
 * The k blocks to remove: Gromov et al.'s best window of k consecutive blocks ('angular-window'),
 * or the k blocks of lowest single-block angular distance ('angular') or Block Influence.
 */
export function blocksToRemove(s: BlockSimilarity, k: number, method: BlockMethod): BlockRemoval {
  const layers = s.angular.length;
  if (!Number.isInteger(k) || k < 0 || k > layers) throw new Error(`cannot remove ${k} of ${layers} blocks`);
  if (k === 0) return blockMasks(layers, []);
  if (method === 'angular-window') {
    const { start } = bestWindow(s, k);
    return blockMasks(
      layers,
      Array.from({ length: k }, (_, i) => start + i),
    );
  }
  const scores = method === 'angular' ? angularPerBlock(s) : s.influence;
  return blockMasks(layers, removalOrder(scores).slice(0, k));
}
