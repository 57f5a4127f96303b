// Block-by-block calibration, the loop of the reference code (sparsegpt's opt_sequential, wanda's
// prune_wanda): embed the calibration inputs once and cache them; then for each block, run it on
// the cached inputs while capturing its linears' input statistics, let the caller prune the block
// from them, and carry the block's outputs forward as the next block's inputs. Sequential mode
// carries the pruned block's outputs (each block is calibrated on what the already-pruned blocks
// before it produce); one-shot mode carries the dense block's (every block sees the dense model's
// activations, as one forward pass would). Each block runs once per batch for its statistics, and
// once more in sequential mode after it is pruned: linear in depth, not quadratic.
import * as tf from '@tensorflow/tfjs';
import { numLayers, type ModelConfig } from '../model/config';
import { modelStages } from '../model/forward';
import { ForwardContext } from '../model/layers';
import type { Capture, ForwardOutput, ModelMasks, Weights } from '../model/types';
import type { CalibrationMode } from './catalogue';
import { addInto, type CalibrationData, calibrationTokens, forEachBatch, type StatsOptions } from './calibration';

/** What one block's linears saw on the calibration data, summed over every token. */
export interface BlockStatistics {
  layer: number;
  /** Rows seen by each linear (examples × tokens). */
  tokens: number;
  /** Σ x_j² per input feature, by weight name (Wanda's ‖X_j‖²). */
  sqSum: Map<string, Float32Array>;
  /** Σ x·xᵀ, [in, in], by weight name (SparseGPT's H / 2), when asked. */
  gram: Map<string, Float32Array>;
}

/**
 * The model's weights as the loop reads them: all in memory, or a block at a time from a file
 * (stream/streamed-run.ts), so that only the embeddings, the head and one block are ever held.
 */
export interface BlockWeightSource {
  /** Embeddings, final norm and head: what the stages outside the blocks read. */
  outside: Weights;
  /** Block `layer`'s weights (a map that may hold more); `release` is called once the loop is done with them. */
  block(layer: number): Promise<Weights>;
  release?(layer: number, weights: Weights): void;
}

/** Every weight already in memory. */
export const inMemory = (weights: Weights): BlockWeightSource => ({ outside: weights, block: async () => weights });

/**
 * Hidden states carried through the blocks beside the calibration inputs, batch by batch: through
 * each block as it was (dense) or as pruned. An evaluation rides along so that a model read a block
 * at a time is measured in the same pass. The loop replaces each entry of `hidden` with the
 * block's output and disposes the input.
 */
export interface Passenger {
  hidden: tf.Tensor[];
  through: 'dense' | 'pruned';
}

export interface BlockLoopOptions extends StatsOptions {
  mode: CalibrationMode;
  /** Which statistics to capture. */
  capture: Pick<Capture, 'activationStats' | 'activationGram'>;
  passengers?: Passenger[];
  /** Progress within the whole loop, 0…1. */
  onProgress?: (fraction: number) => void;
  /** Adds the time spent carrying the passengers, in ms (what of the loop is their evaluation). */
  timing?: { carryMs: number };
}

/**
 * Runs the loop. `onBlock` gets each block's statistics and returns the block's pruned weights by
 * name (the loop takes ownership of those tensors and disposes them once the block is done) or null
 * to leave the block as it is. In sequential mode the next block sees the block with those weights.
 */
export async function calibrateBlockByBlock(
  config: ModelConfig,
  weights: Weights | BlockWeightSource,
  data: CalibrationData,
  onBlock: (stats: BlockStatistics) => Promise<Map<string, tf.Tensor> | null>,
  opts: BlockLoopOptions,
): Promise<void> {
  const source = weights instanceof Map ? inMemory(weights) : weights;
  const stages = modelStages(config);
  const layers = numLayers(config);
  const passengers = opts.passengers ?? [];
  let current: Weights = source.outside;
  const context = (capture?: Capture) =>
    new ForwardContext(config, current, {
      masks: opts.masks,
      capture,
      // Sequential mode reruns the pruned block for its output: the statistics pass's is unread.
      statisticsOnly: !!capture && opts.mode === 'sequential',
    });
  let inputs: tf.Tensor[] = [];
  // Each block runs once for statistics and, in sequential mode, once more after pruning.
  const passes = opts.mode === 'sequential' ? 2 : 1;
  const total = 1 + layers * passes;
  let done = 0;
  const progress = (f: number) => opts.onProgress?.((done + f) / total);
  const carry = (layer: number, through: Passenger['through']) => {
    const t0 = performance.now();
    carryEach(layer, through);
    if (opts.timing) opts.timing.carryMs += performance.now() - t0;
  };
  const carryEach = (layer: number, through: Passenger['through']) => {
    for (const p of passengers) {
      if (p.through !== through) continue;
      p.hidden.forEach((h, i) => {
        opts.signal?.throwIfAborted();
        p.hidden[i] = tf.tidy(() => stages.block(context(), layer, h));
        h.dispose();
      });
    }
  };
  try {
    await forEachBatch(config, data, { ...opts, onProgress: progress }, async (b) => {
      inputs.push(tf.tidy(() => stages.embed(context(), b.input)));
    });
    done++;
    for (let layer = 0; layer < layers; layer++) {
      const blockWeights = await source.block(layer);
      current = blockWeights === source.outside ? new Map(blockWeights) : new Map([...source.outside, ...blockWeights]);
      const made: tf.Tensor[] = [];
      try {
        const stats: BlockStatistics = {
          layer,
          tokens: calibrationTokens(config, data),
          sqSum: new Map(),
          gram: new Map(),
        };
        const outputs: tf.Tensor[] = [];
        for (const [i, h] of inputs.entries()) {
          opts.signal?.throwIfAborted();
          const ctx = context(opts.capture);
          const out = tf.tidy(() => {
            const y = stages.block(ctx, layer, h);
            return { y, sq: ctx.out.activationSqSum ?? {}, gram: ctx.out.activationGram ?? {} };
          });
          await accumulate(stats, out);
          if (opts.mode === 'one-shot') outputs.push(out.y);
          else out.y.dispose();
          progress((i + 1) / inputs.length / passes);
        }
        done++;
        carry(layer, 'dense');
        const pruned = await onBlock(stats);
        if (pruned) {
          for (const [name, t] of pruned) {
            current.set(name, t);
            made.push(t);
          }
        }
        carry(layer, 'pruned');
        if (opts.mode === 'sequential') {
          for (const [i, h] of inputs.entries()) {
            opts.signal?.throwIfAborted();
            outputs.push(tf.tidy(() => stages.block(context(), layer, h)));
            progress((i + 1) / inputs.length / passes);
          }
          done++;
        }
        tf.dispose(inputs);
        inputs = outputs;
      } finally {
        tf.dispose(made);
        source.release?.(layer, blockWeights);
      }
    }
  } finally {
    tf.dispose(inputs);
  }
}

async function accumulate(
  stats: BlockStatistics,
  out: { sq: NonNullable<ForwardOutput['activationSqSum']>; gram: NonNullable<ForwardOutput['activationGram']> },
): Promise<void> {
  for (const [name, t] of Object.entries(out.sq)) addInto(stats.sqSum, name, (await t.data()) as Float32Array);
  for (const [name, t] of Object.entries(out.gram)) addInto(stats.gram, name, (await t.data()) as Float32Array);
  tf.dispose([...Object.values(out.sq), ...Object.values(out.gram)]);
}

/** Every linear layer's Σx² (and x·xᵀ where asked) on the dense model: the one-shot loop, pruning nothing. */
export async function collectActivationStats(
  config: ModelConfig,
  weights: Weights,
  data: CalibrationData,
  opts: StatsOptions & { gram?: boolean; masks?: ModelMasks } = {},
): Promise<{ tokens: number; sqSum: Map<string, Float32Array>; gram: Map<string, Float32Array> }> {
  const sqSum = new Map<string, Float32Array>();
  const gram = new Map<string, Float32Array>();
  await calibrateBlockByBlock(
    config,
    weights,
    data,
    async (s) => {
      for (const [k, v] of s.sqSum) sqSum.set(k, v);
      for (const [k, v] of s.gram) gram.set(k, v);
      return null;
    },
    { ...opts, mode: 'one-shot', capture: { activationStats: true, activationGram: opts.gram } },
  );
  return { tokens: calibrationTokens(config, data), sqSum, gram };
}
