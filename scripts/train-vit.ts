// Trains `vit-fashion`: a small ViT (ViTForImageClassification) on Fashion-MNIST.
// TensorFlow.js (WASM backend) in Node; deterministic for a seed. Writes public/models/vit-fashion/.
//   npm run train:vit                        full run (see EPOCHS below)
//   EPOCHS=0.05 OUT=/tmp/v npm run train:vit a quick try
//   INIT=public/models/vit-fashion EPOCHS=2 PEAK_LR=5e-4 npm run train:vit
//                                            continue from a checkpoint (fresh Adam state, new warm-up)
import * as tf from '@tensorflow/tfjs';
import { parseConfig, type VitConfig } from '../src/engine/model/config';
import { forward } from '../src/engine/model/forward';
import { initWeights } from '../src/engine/model/init';
import { evaluateClassifier } from '../src/engine/eval/metrics';
import { crossEntropySum } from '../src/engine/model/loss';
import { pixelsToInput } from '../src/engine/model/preprocess';
import { writeSafetensors } from '../src/engine/io/safetensors';
import { learningRate } from '../src/engine/recovery/schedule';
import { FASHION_LABELS, loadFashionMnist } from './data/fashion-mnist';
import { elapsed, rng, shuffled, toVariables, Trainer, useWasm, writeModelDir } from './lib/train';
import { previousTraining, trainCommand, writeVitCard } from './lib/model-card';
import { loadCheckpoint } from '../src/engine/model/checkpoint';
import { toTfWeights } from '../src/engine/model/weights';
import { readModelDir } from '../src/cli/model-dir';

const SEED = Number(process.env.SEED ?? 1);
const EPOCHS = Number(process.env.EPOCHS ?? 10);
const BATCH = 128;
const PEAK_LR = Number(process.env.PEAK_LR ?? 2e-3);
const OUT = process.env.OUT ?? 'public/models/vit-fashion';
const INIT = process.env.INIT;
const EVAL_COUNT = 1000; // shipped test images the page scores
const CALIB_COUNT = 256; // shipped training images for calibration statistics

export const VIT_FASHION_CONFIG = {
  architectures: ['ViTForImageClassification'],
  model_type: 'vit',
  hidden_size: 64,
  num_hidden_layers: 4,
  num_attention_heads: 4,
  intermediate_size: 256,
  hidden_act: 'gelu',
  hidden_dropout_prob: 0,
  attention_probs_dropout_prob: 0,
  initializer_range: 0.02,
  layer_norm_eps: 1e-12,
  image_size: 28,
  patch_size: 7,
  num_channels: 1,
  qkv_bias: true,
  encoder_stride: 7,
  id2label: Object.fromEntries(FASHION_LABELS.map((l, i) => [String(i), l])),
  label2id: Object.fromEntries(FASHION_LABELS.map((l, i) => [l, i])),
  problem_type: 'single_label_classification',
  torch_dtype: 'float32',
};

export const VIT_FASHION_PREPROCESSOR = {
  image_processor_type: 'ViTImageProcessor',
  do_resize: true,
  size: { height: 28, width: 28 },
  resample: 2,
  do_rescale: true,
  rescale_factor: 1 / 255,
  do_normalize: true,
  image_mean: [0.5],
  image_std: [0.5],
};

const PIXELS = 28 * 28;

/** Copies the chosen images into one batch, mirroring each left–right when `flip` says so. */
function gatherBatch(src: Uint8Array, idx: ArrayLike<number>, flip: boolean[]): Uint8Array {
  const out = new Uint8Array(idx.length * PIXELS);
  for (let b = 0; b < idx.length; b++) {
    const from = idx[b] * PIXELS;
    for (let r = 0; r < 28; r++) {
      for (let c = 0; c < 28; c++) out[b * PIXELS + r * 28 + c] = src[from + r * 28 + (flip[b] ? 27 - c : c)];
    }
  }
  return out;
}

export async function main() {
  await useWasm();
  const config = parseConfig(VIT_FASHION_CONFIG) as VitConfig;
  const train = loadFashionMnist('train');
  const test = loadFashionMnist('t10k');
  const history = INIT ? previousTraining(INIT) : null;
  const vars = toVariables(
    INIT ? toTfWeights(loadCheckpoint(readModelDir(INIT).files).weights) : initWeights(config, SEED),
  );
  const trainer = new Trainer(vars);
  const random = rng(SEED);
  const stepsPerEpoch = Math.floor(train.count / BATCH);
  const total = Math.round(EPOCHS * stepsPerEpoch);
  const start = performance.now();
  let order = shuffled(train.count, random);
  let smooth = NaN;
  for (let step = 0; step < total; step++) {
    const pos = step % stepsPerEpoch;
    if (pos === 0 && step > 0) order = shuffled(train.count, random);
    const idx = order.subarray(pos * BATCH, (pos + 1) * BATCH);
    const flips = Array.from(idx, () => random() < 0.5);
    const pixels = gatherBatch(train.images, idx, flips);
    const labels = Int32Array.from(idx, (i) => train.labels[i]);
    const loss = trainer.step(learningRate(step, { peak: PEAK_LR, steps: total, warmup: 200, floor: 0.1 }), () => {
      const { logits } = forward(config, vars, pixelsToInput(config, pixels, BATCH));
      return tf.div(crossEntropySum(logits, tf.tensor1d(labels, 'int32'), 10), BATCH);
    });
    smooth = Number.isNaN(smooth) ? loss : 0.98 * smooth + 0.02 * loss;
    if (step % 50 === 0 || step === total - 1) {
      console.error(
        `epoch ${(step / stepsPerEpoch).toFixed(2)} step ${step}/${total}  loss ${smooth.toFixed(4)}  ${elapsed(start)}`,
      );
    }
  }
  const trainTime = elapsed(start);

  const testMetrics = await evaluateClassifier(config, vars, test.images, test.labels);
  const evalImages = test.images.subarray(0, EVAL_COUNT * PIXELS);
  const evalLabels = test.labels.subarray(0, EVAL_COUNT);
  const shipped = await evaluateClassifier(config, vars, evalImages, evalLabels);
  console.error(`test accuracy ${(100 * testMetrics.accuracy).toFixed(2)}% on ${testMetrics.count} images`);

  const calibIdx = shuffled(train.count, rng(SEED + 1)).subarray(0, CALIB_COUNT);
  await writeModelDir(OUT, vars, {
    'config.json': VIT_FASHION_CONFIG,
    'preprocessor_config.json': VIT_FASHION_PREPROCESSOR,
    'eval.safetensors': writeSafetensors(
      {
        images: { dtype: 'U8', shape: [EVAL_COUNT, 28, 28], data: evalImages },
        labels: { dtype: 'U8', shape: [EVAL_COUNT], data: evalLabels },
      },
      { split: 'test', source: 'dataset-fashion-mnist' },
    ),
    'calib.safetensors': writeSafetensors(
      {
        images: {
          dtype: 'U8',
          shape: [CALIB_COUNT, 28, 28],
          data: gatherBatch(train.images, calibIdx, new Array(CALIB_COUNT).fill(false)),
        },
        labels: { dtype: 'U8', shape: [CALIB_COUNT], data: Uint8Array.from(calibIdx, (i) => train.labels[i]) },
      },
      { split: 'train', source: 'dataset-fashion-mnist' },
    ),
  });
  writeVitCard(OUT, {
    command: trainCommand('train:vit', {
      INIT: process.env.INIT,
      EPOCHS: process.env.EPOCHS,
      PEAK_LR: process.env.PEAK_LR,
      SEED: process.env.SEED,
    }),
    config: VIT_FASHION_CONFIG,
    init: INIT ?? null,
    previousTraining: history,
    peakLr: PEAK_LR,
    epochs: EPOCHS,
    batch: BATCH,
    seed: SEED,
    trainTime,
    test: testMetrics,
    shipped,
  });
  console.error(`wrote ${OUT} after ${elapsed(start)}`);
}

if (process.argv[1]?.endsWith('train-vit.ts')) {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
