// Calibration data and the statistics pruning methods read from it: per-feature input norms
// (Wanda), input Gram matrices (SparseGPT), loss gradients (Taylor). The user picks the source and
// the count; the engine says exactly what it used.
import * as tf from '@tensorflow/tfjs';
import type { ModelConfig } from '../model/config';
import type { DataSet } from '../data/datasets';
import type { Tokenizer } from '../model/tokenizer';
import { forward } from '../model/forward';
import type { ModelMasks, Weights } from '../model/types';
import { crossEntropySum } from '../model/loss';
import { pixelsToInput } from '../model/preprocess';
import { randomScores } from './random';

export type CalibrationSource = 'train' | 'held-out' | 'random' | 'custom';

export interface CalibrationSpec {
  source: CalibrationSource;
  /** Examples: sequences of the model's context for text, images for images. */
  count: number;
  seed?: number;
  /** The user's own text or images, for source 'custom'. */
  custom?: DataSet;
}

export type CalibrationData =
  | {
      kind: 'lm';
      description: string;
      count: number;
      length: number /** [count, length + 1] token ids */;
      windows: Int32Array;
    }
  | {
      kind: 'images';
      description: string;
      count: number;
      pixels: Uint8Array /** null: no labels (noise, user images) */;
      labels: Uint8Array | null;
    };

export class CalibrationError extends Error {}

export interface CalibrationSets {
  train: DataSet | null;
  heldOut: DataSet | null;
  tokenizer: Tokenizer | null;
}

function pickSet(spec: CalibrationSpec, sets: CalibrationSets): DataSet {
  const set = spec.source === 'train' ? sets.train : spec.source === 'held-out' ? sets.heldOut : spec.custom;
  if (!set) throw new CalibrationError(`no ${spec.source} data is available for calibration`);
  return set;
}

export function makeCalibration(config: ModelConfig, spec: CalibrationSpec, sets: CalibrationSets): CalibrationData {
  if (!Number.isInteger(spec.count) || spec.count < 1)
    throw new CalibrationError(`calibration count must be a positive integer, got ${spec.count}`);
  const seed = spec.seed ?? 0;
  const rand = randomScores(spec.count * 2, seed + 17);
  if (config.kind === 'gpt2') {
    const t = config.nPositions;
    const windows = new Int32Array(spec.count * (t + 1));
    if (spec.source === 'random') {
      const r = randomScores(windows.length, seed + 29);
      for (let i = 0; i < windows.length; i++) windows[i] = Math.floor(r[i] * config.vocabSize);
      return {
        kind: 'lm',
        description: `${spec.count} sequences of ${t} uniformly random tokens (seed ${seed})`,
        count: spec.count,
        length: t,
        windows,
      };
    }
    const set = pickSet(spec, sets);
    if (set.kind !== 'text')
      throw new CalibrationError(`the ${spec.source} calibration data is images; this model reads text`);
    const tokens = sets.tokenizer!.encode(new TextDecoder().decode(set.bytes));
    if (tokens.length < t + 1)
      throw new CalibrationError(
        `the ${spec.source} text has ${tokens.length} tokens; calibration needs at least ${t + 1}`,
      );
    for (let i = 0; i < spec.count; i++) {
      const off = Math.floor(rand[i] * (tokens.length - t));
      for (let j = 0; j <= t; j++) windows[i * (t + 1) + j] = tokens[off + j];
    }
    return {
      kind: 'lm',
      description: `${spec.count} windows of ${t} tokens at random offsets (seed ${seed}) in the ${spec.source} text (${tokens.length} tokens)`,
      count: spec.count,
      length: t,
      windows,
    };
  }
  const per = config.numChannels * config.imageSize * config.imageSize;
  const pixels = new Uint8Array(spec.count * per);
  if (spec.source === 'random') {
    const r = randomScores(pixels.length, seed + 29);
    for (let i = 0; i < pixels.length; i++) pixels[i] = Math.floor(r[i] * 256);
    return {
      kind: 'images',
      description: `${spec.count} images of uniform noise (seed ${seed})`,
      count: spec.count,
      pixels,
      labels: null,
    };
  }
  const set = pickSet(spec, sets);
  if (set.kind !== 'images')
    throw new CalibrationError(`the ${spec.source} calibration data is text; this model reads images`);
  const labels = spec.source === 'custom' ? null : new Uint8Array(spec.count);
  // Without replacement while the set lasts, in a seeded order.
  const key = randomScores(set.count, seed + 41);
  const order = Array.from({ length: set.count }, (_, i) => i).sort((a, b) => key[a] - key[b] || a - b);
  for (let i = 0; i < spec.count; i++) {
    const src = order[i % set.count];
    pixels.set(set.pixels.subarray(src * per, (src + 1) * per), i * per);
    if (labels) labels[i] = set.labels[src];
  }
  const repeats = spec.count > set.count ? ` (the set has ${set.count}; some repeat)` : '';
  return {
    kind: 'images',
    description: `${spec.count} ${spec.source} images${repeats} (seed ${seed})`,
    count: spec.count,
    pixels,
    labels,
  };
}

/** Tokens (rows of every linear layer's input) one pass over the calibration data feeds. */
export function calibrationTokens(config: ModelConfig, data: CalibrationData): number {
  return data.kind === 'lm'
    ? data.count * data.length
    : data.count * (config.kind === 'vit' ? (config.imageSize / config.patchSize) ** 2 + 1 : 1);
}

/** The input tensor and loss targets of calibration examples [start, end). */
export function batchTensors(
  config: ModelConfig,
  data: CalibrationData,
  start: number,
  end: number,
): { input: tf.Tensor; targets: tf.Tensor | null } {
  const m = end - start;
  if (data.kind === 'lm') {
    const t = data.length;
    const inp = new Int32Array(m * t);
    const tgt = new Int32Array(m * t);
    for (let i = 0; i < m; i++) {
      const w = data.windows.subarray((start + i) * (t + 1), (start + i + 1) * (t + 1));
      inp.set(w.subarray(0, t), i * t);
      tgt.set(w.subarray(1), i * t);
    }
    return { input: tf.tensor2d(inp, [m, t], 'int32'), targets: tf.tensor1d(tgt, 'int32') };
  }
  if (config.kind !== 'vit') throw new CalibrationError('image calibration data for a text model');
  const per = config.numChannels * config.imageSize ** 2;
  return {
    input: pixelsToInput(config, data.pixels.subarray(start * per, end * per), m),
    targets: data.labels ? tf.tensor1d(data.labels.subarray(start, end), 'int32') : null,
  };
}

export interface StatsOptions {
  masks?: ModelMasks;
  /** Collect x·xᵀ for these linear layers (by weight name). */
  gramFor?: (weightName: string) => boolean;
  batchSize?: number;
  signal?: AbortSignal;
  onProgress?: (fraction: number) => void;
}

export interface ActivationStats {
  /** Rows seen by every linear layer (batch × tokens). */
  tokens: number;
  sqSum: Map<string, Float32Array>;
  gram: Map<string, Float32Array>;
}

function addInto(acc: Map<string, Float32Array>, name: string, values: Float32Array) {
  const a = acc.get(name);
  if (!a) acc.set(name, values.slice());
  else for (let i = 0; i < a.length; i++) a[i] += values[i];
}

/** One pass over the calibration data, summing Σx² (and x·xᵀ where asked) per linear layer. */
export async function collectActivationStats(
  config: ModelConfig,
  weights: Weights,
  data: CalibrationData,
  opts: StatsOptions = {},
): Promise<ActivationStats> {
  const batch = opts.batchSize ?? (data.kind === 'lm' ? 8 : 64);
  const sqSum = new Map<string, Float32Array>();
  const gram = new Map<string, Float32Array>();
  for (let s = 0; s < data.count; s += batch) {
    opts.signal?.throwIfAborted();
    const e = Math.min(data.count, s + batch);
    const out = tf.tidy(() => {
      const { input } = batchTensors(config, data, s, e);
      const r = forward(config, weights, input, {
        masks: opts.masks,
        capture: { activationStats: true, activationGram: opts.gramFor },
      });
      tf.dispose(r.logits);
      return { sq: r.activationSqSum ?? {}, gram: r.activationGram ?? {} };
    });
    for (const [name, t] of Object.entries(out.sq)) addInto(sqSum, name, (await t.data()) as Float32Array);
    for (const [name, t] of Object.entries(out.gram)) addInto(gram, name, (await t.data()) as Float32Array);
    tf.dispose([...Object.values(out.sq), ...Object.values(out.gram)]);
    opts.onProgress?.(e / data.count);
  }
  return { tokens: calibrationTokens(config, data), sqSum, gram };
}

/**
 * ∂L/∂W of the mean cross-entropy over the calibration data, for the named weights. Unlabelled
 * images take the model's own predictions as targets (the loss then measures how far pruning moves
 * the model from itself, which is what matters for pruning).
 */
export async function collectGradients(
  config: ModelConfig,
  weights: Weights,
  data: CalibrationData,
  names: string[],
  opts: StatsOptions = {},
): Promise<Map<string, Float32Array>> {
  const batch = opts.batchSize ?? (data.kind === 'lm' ? 8 : 64);
  const grads = new Map<string, Float32Array>();
  const classes = config.kind === 'gpt2' ? config.vocabSize : config.labels.length;
  for (let s = 0; s < data.count; s += batch) {
    opts.signal?.throwIfAborted();
    const e = Math.min(data.count, s + batch);
    const gs = tf.tidy(() => {
      const { input, targets } = batchTensors(config, data, s, e);
      const f = (...ws: tf.Tensor[]) => {
        const local = new Map(weights);
        names.forEach((n, i) => {
          local.set(n, ws[i]);
        });
        const logits = forward(config, local, input, { masks: opts.masks, oneHotEmbedding: true }).logits;
        const flat = tf.reshape(logits, [-1, classes]);
        const y = targets ?? tf.argMax(flat, -1); // integer labels: no gradient flows through them
        return tf.div(crossEntropySum(flat, y, classes), data.count * (flat.shape[0] / (e - s))) as tf.Scalar;
      };
      return tf.grads(f)(names.map((n) => weights.get(n)!));
    });
    for (let i = 0; i < names.length; i++) addInto(grads, names[i], (await gs[i].data()) as Float32Array);
    tf.dispose(gs);
    opts.onProgress?.(e / data.count);
  }
  return grads;
}

/** Mean cross-entropy over the calibration data (self-predicted targets where there are no labels). */
export async function calibrationLoss(
  config: ModelConfig,
  weights: Weights,
  data: CalibrationData,
  opts: StatsOptions = {},
): Promise<number> {
  const batch = opts.batchSize ?? (data.kind === 'lm' ? 8 : 64);
  const classes = config.kind === 'gpt2' ? config.vocabSize : config.labels.length;
  let nll = 0;
  let rows = 0;
  for (let s = 0; s < data.count; s += batch) {
    opts.signal?.throwIfAborted();
    const e = Math.min(data.count, s + batch);
    const [lossT, n] = tf.tidy(() => {
      const { input, targets } = batchTensors(config, data, s, e);
      const flat = tf.reshape(forward(config, weights, input, { masks: opts.masks }).logits, [-1, classes]);
      return [crossEntropySum(flat, targets ?? tf.argMax(flat, -1), classes), flat.shape[0]] as const;
    });
    nll += (await lossT.data())[0];
    lossT.dispose();
    rows += n;
  }
  return nll / rows;
}

/**
 * Unlabelled images (noise, the user's own) get the dense model's predictions as labels, so losses
 * measured later on the pruned model say how far pruning moved it from the dense one.
 */
export async function withDenseLabels(
  config: ModelConfig,
  weights: Weights,
  data: CalibrationData,
): Promise<CalibrationData> {
  if (data.kind !== 'images' || data.labels) return data;
  const labels = new Uint8Array(data.count);
  const batch = 64;
  for (let s = 0; s < data.count; s += batch) {
    const e = Math.min(data.count, s + batch);
    const pred = tf.tidy(() => tf.argMax(forward(config, weights, batchTensors(config, data, s, e).input).logits, -1));
    labels.set(await pred.data(), s);
    pred.dispose();
  }
  return { ...data, labels, description: `${data.description}, labelled by the dense model's predictions` };
}
