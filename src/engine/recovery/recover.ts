// Recovery after pruning: a few hundred steps of training that win back part of what pruning cost,
// while what the recipe removed stays removed. Three modes:
// - finetune: every kept weight trained on the task's loss (next-token or label cross-entropy);
// - distill: the same weights trained to match the dense model (distill.ts);
// - lora: low-rank adapters on the pruned linears (lora.ts), the weights frozen, trained on the
//   task's loss or, given `distill`, by distillation.
// Adam (adam.ts) under a warm-up and cosine schedule (schedule.ts). A pruned weight is exactly 0
// after every step; removed heads, neurons and sublayers stay removed (their masks go to every
// forward pass). The run streams its loss and held-out metric, and a cancelled run returns the
// best weights it reached instead of nothing.
import * as tf from '@tensorflow/tfjs';
import { isAbortError } from '../abort';
import { type ModelConfig, outputClasses } from '../model/config';
import { forward } from '../model/forward';
import { crossEntropySum } from '../model/loss';
import type { LinearOverride, ModelMasks, Weights } from '../model/types';
import { batchTensors } from '../pruning/calibration';
import { type AdamOptions, MaskedAdam } from './adam';
import { applyMask } from './mask';
import type { BatchSource } from './batches';
import { type DistillSettings, distillationLoss, hiddenStateMse } from './distill';
import {
  checkLoraSettings,
  disposeMerged,
  initLora,
  type LoraAdapters,
  type LoraSettings,
  loraLinears,
  loraTargets,
  mergeLora,
} from './lora';
import { learningRate } from './schedule';

export type RecoveryMode =
  | { kind: 'finetune' }
  | ({ kind: 'distill' } & DistillSettings)
  | ({ kind: 'lora' } & LoraSettings & { distill?: DistillSettings });

export interface RecoverySettings {
  mode: RecoveryMode;
  /** Optimizer updates. */
  steps: number;
  /** The peak learning rate. */
  learningRate: number;
  /** Updates of linear warm-up before the cosine decay. */
  warmupSteps: number;
  /** Where the cosine ends, as a fraction of the peak (default 0). */
  finalLearningRate?: number;
  /** Seeds the LoRA initialisation (batch order is the batch source's: see batches.ts). */
  seed: number;
  /** Report the loss every this many updates (default 10; the last update is always reported). */
  logEvery?: number;
  /** Measure the held-out metric every this many updates (default 0: before and after only). */
  evalEvery?: number;
  adam?: AdamOptions;
}

/** The caller's held-out measurement of a model (its own data, batches and masks of structure). */
export interface HeldOutEvaluation {
  /** The metric of the model with these weights (already masked weight by weight). */
  run(weights: Weights): Promise<number>;
  /** true for accuracy; false for a loss or bits per byte. */
  higherIsBetter: boolean;
}

export type RecoveryProgress =
  | { kind: 'loss'; step: number; steps: number; loss: number }
  | { kind: 'metric'; step: number; metric: number };

export interface RecoveryInput {
  config: ModelConfig;
  /** The pruned model's weights (the caller's: read, never changed or freed). */
  weights: Weights;
  /** The recipe's masks: per-weight masks are kept through training, structural ones in every pass. */
  masks?: ModelMasks;
  batches: BatchSource;
  settings: RecoverySettings;
  evaluate?: HeldOutEvaluation;
  onProgress?: (p: RecoveryProgress) => void;
  /** After each update, with the model as it now is (LoRA merged); the weights are freed after it returns. */
  afterStep?: (step: number, weights: Weights) => void;
  /** On abort the run stops and returns the best weights so far with `aborted: true`. */
  signal?: AbortSignal;
}

export interface CurvePoint {
  step: number;
  value: number;
}

export interface RecoveryResult {
  /** Every tensor of the input, same names and shapes, masked; the caller's to free. */
  weights: Weights;
  /** LoRA mode: the adapters of the returned weights (already merged into them); the caller's to free. */
  adapters: LoraAdapters | null;
  /** The training loss of every update (before it), step 1 … */
  lossCurve: CurvePoint[];
  /** The held-out metric at step 0 (before) and at every evaluation after. */
  metricCurve: CurvePoint[];
  metricBefore: number | null;
  /** The returned weights' metric. */
  metricAfter: number | null;
  /** Updates done. */
  stepsDone: number;
  /** Updates behind the returned weights: the best evaluated step when aborted, else stepsDone. */
  step: number;
  aborted: boolean;
  /** Wall-clock milliseconds per update (the forward and backward pass, the optimizer's step), evaluations left out. */
  msPerStep: number | null;
}

export class RecoveryError extends Error {}

function checkSettings(s: RecoverySettings): void {
  const whole = (v: number, min: number) => Number.isInteger(v) && v >= min;
  if (!whole(s.steps, 1)) throw new RecoveryError(`steps must be a whole number ≥ 1, got ${s.steps}`);
  if (!(s.learningRate > 0 && Number.isFinite(s.learningRate)))
    throw new RecoveryError(`the learning rate must be positive, got ${s.learningRate}`);
  if (!whole(s.warmupSteps, 0))
    throw new RecoveryError(`warm-up steps must be a whole number ≥ 0, got ${s.warmupSteps}`);
  const floor = s.finalLearningRate ?? 0;
  if (!(floor >= 0 && floor <= 1))
    throw new RecoveryError(`the final learning rate is a fraction of the peak in [0, 1], got ${floor}`);
  if (!whole(s.logEvery ?? 10, 1)) throw new RecoveryError(`logEvery must be a whole number ≥ 1, got ${s.logEvery}`);
  if (!whole(s.evalEvery ?? 0, 0)) throw new RecoveryError(`evalEvery must be a whole number ≥ 0, got ${s.evalEvery}`);
  const distill = distillOf(s.mode);
  if (distill && !(distill.temperature > 0 && Number.isFinite(distill.temperature)))
    throw new RecoveryError(`the distillation temperature must be positive, got ${distill.temperature}`);
  if (distill && !((distill.hiddenWeight ?? 0) >= 0))
    throw new RecoveryError(`the hidden-state weight must be ≥ 0, got ${distill.hiddenWeight}`);
  if (s.mode.kind === 'lora') checkLoraSettings(s.mode);
}

const distillOf = (mode: RecoveryMode): DistillSettings | null =>
  mode.kind === 'distill' ? mode : mode.kind === 'lora' ? (mode.distill ?? null) : null;

/** What is trained, as a flat list of tensors, and how the model's weights follow from it. */
interface Trainables {
  initial: tf.Tensor[];
  masks: (tf.Tensor | undefined)[];
  /**
   * Whether the token embedding is trained: its gradient then needs the one-hot product (see
   * ForwardOptions.oneHotEmbedding); a frozen one is gathered, which at GPT-2's vocabulary saves a
   * [tokens, 50,257] one-hot and its product with the table at every pass.
   */
  trainsEmbedding: boolean;
  /** The model's weights for these parameters (LoRA: merged, new tensors that `release` frees). */
  weightsOf(params: readonly tf.Tensor[]): Weights;
  /** What a training pass runs: the weights, and the products computed another way (LoRA's adapters). */
  trainingPass(params: readonly tf.Tensor[]): { weights: Weights; linears?: LinearOverride };
  /** Frees what weightsOf made. */
  release(weights: Weights): void;
  adaptersOf(params: readonly tf.Tensor[]): LoraAdapters | null;
  dispose(): void;
}

/** Every weight trained, starting from the pruned ones (masked by the optimizer). */
function allWeights(weights: Weights, weightMasks: Map<string, tf.Tensor> | undefined): Trainables {
  const names = [...weights.keys()];
  const weightsOf = (params: readonly tf.Tensor[]): Weights => new Map(names.map((n, i) => [n, params[i]]));
  return {
    initial: names.map((n) => tf.clone(weights.get(n)!)),
    masks: names.map((n) => weightMasks?.get(n)),
    trainsEmbedding: true,
    weightsOf,
    trainingPass: (params) => ({ weights: weightsOf(params) }),
    release: () => {},
    adaptersOf: () => null,
    dispose: () => {},
  };
}

/** LoRA adapters trained over the pruned weights, frozen. */
function loraAdapters(
  config: ModelConfig,
  weights: Weights,
  masks: ModelMasks | undefined,
  settings: LoraSettings,
  seed: number,
): Trainables {
  const targets = loraTargets(config, settings, masks);
  const weightMasks = masks?.weights;
  const adapted = new Set(targets.map((s) => s.weight));
  // An adapted linear is masked as it is merged; only a pruned tensor left without an adapter needs
  // a masked copy of its own (the others are the caller's, read as they are).
  const base: Weights = new Map();
  const copies: tf.Tensor[] = [];
  for (const [name, w] of weights) {
    const mask = adapted.has(name) ? undefined : weightMasks?.get(name);
    const t = mask ? applyMask(w, mask) : w;
    if (mask) copies.push(t);
    base.set(name, t);
  }
  const fresh = initLora(targets, settings, seed);
  const adaptersOf = (params: readonly tf.Tensor[]): LoraAdapters => ({
    rank: fresh.rank,
    alpha: fresh.alpha,
    layers: new Map(targets.map((s, i) => [s.weight, { a: params[2 * i], b: params[2 * i + 1] }])),
  });
  return {
    initial: [...fresh.layers.values()].flatMap(({ a, b }) => [a, b]),
    masks: targets.flatMap(() => [undefined, undefined]),
    trainsEmbedding: false,
    weightsOf: (params) => mergeLora(config, base, adaptersOf(params), weightMasks),
    trainingPass: (params) => ({ weights: base, linears: loraLinears(config, base, adaptersOf(params), weightMasks) }),
    release: (merged) => disposeMerged(merged, fresh),
    adaptersOf,
    dispose: () => tf.dispose(copies),
  };
}

/** The training objective of one batch, as a function of the trained parameters. */
function objective(
  input: RecoveryInput,
  trainables: Trainables,
  x: tf.Tensor,
  targets: tf.Tensor | null,
): (...params: tf.Tensor[]) => tf.Scalar {
  const { config } = input;
  const m = input.masks;
  const structure: ModelMasks = { heads: m?.heads, neurons: m?.neurons, attention: m?.attention, mlp: m?.mlp };
  const distill = distillOf(input.settings.mode);
  const hiddenWeight = distill?.hiddenWeight ?? 0;
  const capture = hiddenWeight > 0 ? { hidden: true } : undefined;
  // The dense model is the teacher: no masks, no gradient.
  const teacher = distill ? forward(config, distill.teacher, x, { capture }) : null;
  if (!distill && !targets)
    throw new RecoveryError('training on the task loss needs labelled examples; distillation needs none');
  return (...params) => {
    const pass = trainables.trainingPass(params);
    const out = forward(config, pass.weights, x, {
      masks: structure,
      linears: pass.linears,
      oneHotEmbedding: trainables.trainsEmbedding,
      capture,
    });
    if (distill && teacher) {
      const kl = distillationLoss(out.logits, teacher.logits, distill.temperature);
      if (hiddenWeight === 0) return kl;
      return tf.add(kl, tf.mul(hiddenStateMse(out.hiddenOut!, teacher.hiddenOut!), hiddenWeight)) as tf.Scalar;
    }
    const classes = outputClasses(config);
    const flat = tf.reshape(out.logits, [-1, classes]);
    return tf.div(crossEntropySum(flat, targets!, classes), flat.shape[0]!) as tf.Scalar;
  };
}

/** Trains the pruned model as `input.settings` says; see the file's head. */
export async function recover(input: RecoveryInput): Promise<RecoveryResult> {
  const { config, settings, evaluate } = input;
  checkSettings(settings);
  const mode = settings.mode;
  const trainables =
    mode.kind === 'lora'
      ? loraAdapters(config, input.weights, input.masks, mode, settings.seed)
      : allWeights(input.weights, input.masks?.weights);
  const adam = new MaskedAdam(trainables.initial, trainables.masks, settings.adam);
  const schedule = {
    peak: settings.learningRate,
    steps: settings.steps,
    warmup: settings.warmupSteps,
    floor: settings.finalLearningRate,
  };
  const logEvery = settings.logEvery ?? 10;
  const evalEvery = settings.evalEvery ?? 0;
  const lossCurve: CurvePoint[] = [];
  const metricCurve: CurvePoint[] = [];
  const best = new BestSoFar(evaluate?.higherIsBetter ?? true);
  let aborted = false;

  const measure = async (step: number): Promise<number> => {
    const weights = trainables.weightsOf(adam.params);
    let metric: number;
    try {
      metric = await evaluate!.run(weights);
    } finally {
      trainables.release(weights);
    }
    metricCurve.push({ step, value: metric });
    input.onProgress?.({ kind: 'metric', step, metric });
    best.offer(step, metric, adam.params);
    return metric;
  };

  let metricBefore: number | null = null;
  let lastMeasured = -1;
  let trainingMs = 0;
  try {
    if (evaluate) {
      metricBefore = await measure(0);
      lastMeasured = 0;
    }
    for (let step = 0; step < settings.steps; step++) {
      input.signal?.throwIfAborted();
      const stepStarted = performance.now();
      const batch = input.batches(step);
      const { value, grads } = tf.tidy(() => {
        const { input: x, targets } = batchTensors(config, batch, 0, batch.count);
        const f = objective(input, trainables, x, targets);
        const params = adam.params as tf.Tensor[];
        // A parameter the loss does not reach (a removed sublayer's) gets no gradient: zero, then.
        const r = tf.engine().gradients(() => f(...params), params, undefined, true);
        return { value: r.value, grads: r.grads.map((g, i) => g ?? tf.zerosLike(params[i])) };
      });
      adam.update(grads, learningRate(step, schedule));
      const loss = (await value.data())[0];
      value.dispose();
      trainingMs += performance.now() - stepStarted;
      const done = step + 1;
      lossCurve.push({ step: done, value: loss });
      if (input.afterStep) {
        const weights = trainables.weightsOf(adam.params);
        try {
          input.afterStep(done, weights);
        } finally {
          trainables.release(weights);
        }
      }
      if (done % logEvery === 0 || done === settings.steps)
        input.onProgress?.({ kind: 'loss', step: done, steps: settings.steps, loss });
      if (evaluate && evalEvery > 0 && done % evalEvery === 0) {
        await measure(done);
        lastMeasured = done;
      }
    }
    if (evaluate && lastMeasured !== settings.steps) {
      await measure(settings.steps);
      lastMeasured = settings.steps;
    }
  } catch (e) {
    if (!isAbortError(e)) {
      best.dispose();
      adam.dispose();
      trainables.dispose();
      throw e;
    }
    aborted = true;
  }

  const stepsDone = adam.steps;
  // Finished: the last update's weights. Cancelled: the best measured, or the latest when none was.
  const kept = aborted ? best.kept : null;
  const chosen = kept ? kept.params : adam.params;
  const merged = trainables.weightsOf(chosen);
  const weights: Weights = new Map([...merged].map(([name, t]) => [name, tf.clone(t)]));
  trainables.release(merged);
  const chosenAdapters = trainables.adaptersOf(chosen);
  const adapters: LoraAdapters | null = chosenAdapters && {
    ...chosenAdapters,
    layers: new Map([...chosenAdapters.layers].map(([n, { a, b }]) => [n, { a: tf.clone(a), b: tf.clone(b) }])),
  };
  const metricAfter = kept
    ? kept.metric
    : lastMeasured === stepsDone
      ? metricCurve[metricCurve.length - 1].value
      : null;
  const result: RecoveryResult = {
    weights,
    adapters,
    lossCurve,
    metricCurve,
    metricBefore,
    metricAfter,
    stepsDone,
    step: kept ? kept.step : stepsDone,
    aborted,
    msPerStep: stepsDone > 0 ? trainingMs / stepsDone : null,
  };
  best.dispose();
  adam.dispose();
  trainables.dispose();
  return result;
}

/** The best measured parameters so far (clones share the data: they cost memory once the optimizer moves on). */
class BestSoFar {
  kept: { step: number; metric: number; params: tf.Tensor[] } | null = null;

  constructor(private readonly higherIsBetter: boolean) {}

  offer(step: number, metric: number, params: readonly tf.Tensor[]): void {
    const k = this.kept;
    if (k && !(this.higherIsBetter ? metric > k.metric : metric < k.metric)) return;
    this.dispose();
    this.kept = { step, metric, params: params.map((p) => tf.clone(p)) };
  }

  dispose(): void {
    if (this.kept) tf.dispose(this.kept.params);
    this.kept = null;
  }
}
