// Model cards (README.md in each model directory): data, licence, the command that made the
// model, and the metrics measured at the end of that run.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ClassifierMetrics, LmMetrics } from '../../src/engine/eval/metrics';

const today = () => new Date().toISOString().slice(0, 10);

/** The "Training" section of a model card, to carry a checkpoint's history into its successor's. */
export function previousTraining(dir: string): string | null {
  const card = existsSync(join(dir, 'README.md')) ? readFileSync(join(dir, 'README.md'), 'utf8') : '';
  const m = /## Training\n([\s\S]*?)\n## /.exec(card);
  return m ? m[1] : null;
}

/** A run that continued a checkpoint quotes how that checkpoint was trained. */
function startedFrom(init: string | null, previous: string | null): string {
  if (!init) return '';
  return `\nIt continued the checkpoint then in \`${init}\`, itself trained as follows:\n\n> ${previous?.trim().replace(/\n/g, '\n> ') ?? '(no record)'}\n`;
}

/** The command line that reruns a training script with the settings a run used. */
export function trainCommand(script: string, env: Record<string, string | undefined>): string {
  const set = Object.entries(env)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${v} `)
    .join('');
  return `${set}npm run ${script}`;
}

export function writeGptCard(
  dir: string,
  r: {
    command: string;
    config: object;
    init: string | null;
    previousTraining: string | null;
    peakLr: number;
    steps: number;
    batch: number;
    seed: number;
    trainTime: string;
    full: LmMetrics;
    shipped: LmMetrics;
    heldOutBytes: number;
    trainBytes: number;
    sample: string;
    prompt: string;
  },
): void {
  const c = r.config as Record<string, number>;
  writeFileSync(
    join(dir, 'README.md'),
    `---
license: mit
library_name: transformers
pipeline_tag: text-generation
tags: [gpt2, byte-level, pruning-workbench]
---
# gpt-bytes

A small GPT-2 (\`GPT2LMHeadModel\`, ${c.n_layer} layers, ${c.n_head} heads, width ${c.n_embd}, FFN ${c.n_inner},
context ${c.n_positions}) over raw bytes (vocabulary 256: token id = byte value), the default text model of the
Pruning Workbench.

## Data
The King James Version of the Bible (public domain; Crown copyright applies in the United Kingdom) from
Debian's \`bible-kjv\` package: one verse per line, verse references removed. Every 20th chapter is held out
(${r.heldOutBytes} bytes); the rest (${r.trainBytes} bytes) is for training.
\`eval.safetensors\` holds the first ${r.shipped.tokens + 1} held-out bytes (tensor \`bytes\`, U8), which the
page scores; \`calib.safetensors\` holds the first training bytes for calibration.

## Training
\`${r.command}\` (TensorFlow.js, WASM backend, in Node): Adam (β 0.9/0.98), peak learning rate ${r.peakLr} with
warm-up and cosine decay, ${r.steps} steps of ${r.batch} random windows of ${c.n_positions} bytes, seed ${r.seed}.
Took ${r.trainTime} on 2 CPU cores. Date: ${today()}.${startedFrom(r.init, r.previousTraining)}

## Measured at the end of that run
| held-out set | bits per byte | perplexity (per byte) | next-byte accuracy |
|---|---|---|---|
| all held-out chapters (${r.full.tokens} predictions) | ${r.full.bitsPerByte.toFixed(3)} | ${r.full.perplexity.toFixed(3)} | ${(100 * r.full.nextTokenAccuracy).toFixed(1)}% |
| shipped eval slice (${r.shipped.tokens} predictions) | ${r.shipped.bitsPerByte.toFixed(3)} | ${r.shipped.perplexity.toFixed(3)} | ${(100 * r.shipped.nextTokenAccuracy).toFixed(1)}% |

Sample (prompt \`${r.prompt}\`, temperature 0.8, seed 1):

> ${r.prompt}${r.sample.replace(/\n/g, '\n> ')}

## Use
\`\`\`python
from transformers import AutoModelForCausalLM, AutoTokenizer
model = AutoModelForCausalLM.from_pretrained("public/models/gpt-bytes")
tok = AutoTokenizer.from_pretrained("public/models/gpt-bytes")
\`\`\`
`,
  );
}

export function writeVitCard(
  dir: string,
  r: {
    command: string;
    config: object;
    init: string | null;
    previousTraining: string | null;
    peakLr: number;
    epochs: number;
    batch: number;
    seed: number;
    trainTime: string;
    test: ClassifierMetrics;
    shipped: ClassifierMetrics;
  },
): void {
  const c = r.config as Record<string, number>;
  writeFileSync(
    join(dir, 'README.md'),
    `---
license: mit
library_name: transformers
pipeline_tag: image-classification
datasets: [fashion_mnist]
tags: [vit, pruning-workbench]
---
# vit-fashion

A small ViT (\`ViTForImageClassification\`, ${c.num_hidden_layers} layers, ${c.num_attention_heads} heads, width ${c.hidden_size},
FFN ${c.intermediate_size}; 28×28 grayscale, patch ${c.patch_size} → ${(c.image_size / c.patch_size) ** 2} patches + CLS), the default image model of
the Pruning Workbench.

## Data
Fashion-MNIST (© Zalando SE, MIT licence) from Debian's \`dataset-fashion-mnist\` package: 60,000 training and
10,000 test images of 10 clothing classes. \`eval.safetensors\` holds the first ${r.shipped.count} test images (tensors
\`images\` U8 [n, 28, 28] and \`labels\` U8 [n]), which the page scores; \`calib.safetensors\` holds training images
for calibration. Pixels are normalised as \`preprocessor_config.json\` says (x/255 − 0.5) / 0.5.

## Training
\`${r.command}\` (TensorFlow.js, WASM backend, in Node): Adam (β 0.9/0.98), peak learning rate ${r.peakLr} with
warm-up and cosine decay, ${r.epochs} epochs of batches of ${r.batch}, random horizontal flips, seed ${r.seed}.
Took ${r.trainTime} on 2 CPU cores. Date: ${today()}.${startedFrom(r.init, r.previousTraining)}

## Measured at the end of that run
| test set | top-1 accuracy | mean cross-entropy |
|---|---|---|
| all 10,000 test images | ${(100 * r.test.accuracy).toFixed(2)}% | ${r.test.loss.toFixed(4)} |
| shipped eval slice (${r.shipped.count} images) | ${(100 * r.shipped.accuracy).toFixed(2)}% | ${r.shipped.loss.toFixed(4)} |

## Use
\`\`\`python
from transformers import ViTForImageClassification
model = ViTForImageClassification.from_pretrained("public/models/vit-fashion")
\`\`\`
`,
  );
}
