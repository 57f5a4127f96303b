// What both training scripts share: a seeded generator, the learning-rate schedule, an Adam step
// on a Map of variables, and writing a model directory as a Hugging Face checkpoint.
import * as tf from '@tensorflow/tfjs';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
export { useWasm } from '../../src/engine/backends/node-wasm';
import { serializeWeights } from '../../src/engine/model/checkpoint';
import { toHostWeights } from '../../src/engine/model/weights';
import type { Weights } from '../../src/engine/model/types';

/** mulberry32: small, fast, and the same sequence on every machine for a seed. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function shuffled(n: number, random: () => number): Uint32Array {
  const idx = new Uint32Array(n);
  for (let i = 0; i < n; i++) idx[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [idx[i], idx[j]] = [idx[j], idx[i]];
  }
  return idx;
}

/** Linear warm-up, then cosine decay to 10% of the peak. */
export function learningRate(step: number, total: number, peak: number, warmup: number): number {
  if (step < warmup) return (peak * (step + 1)) / warmup;
  const progress = (step - warmup) / Math.max(1, total - warmup);
  return peak * (0.1 + 0.45 * (1 + Math.cos(Math.PI * progress)));
}

export function toVariables(weights: Weights): Map<string, tf.Variable> {
  const vars = new Map<string, tf.Variable>();
  for (const [name, t] of weights) {
    vars.set(name, tf.variable(t, true, name));
    t.dispose();
  }
  return vars;
}

export class Trainer {
  private readonly optimizer: tf.AdamOptimizer;

  constructor(private readonly vars: Map<string, tf.Variable>) {
    this.optimizer = tf.train.adam(1e-3, 0.9, 0.98, 1e-8);
  }

  /** One Adam step at learning rate `lr`; returns the loss before the step. */
  step(lr: number, loss: () => tf.Scalar): number {
    // tfjs's Adam reads its learning rate at each step; setting it is how a schedule is applied.
    (this.optimizer as unknown as { learningRate: number }).learningRate = lr;
    const value = this.optimizer.minimize(loss, true, [...this.vars.values()]);
    const out = value!.dataSync()[0];
    value!.dispose();
    return out;
  }
}

/** Writes files (JSON objects are pretty-printed) into dir, creating it. */
export async function writeModelDir(
  dir: string,
  weights: Map<string, tf.Tensor>,
  files: Record<string, object | Uint8Array | string>,
): Promise<void> {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'model.safetensors'), serializeWeights(await toHostWeights(weights)));
  for (const [name, content] of Object.entries(files)) {
    const body =
      content instanceof Uint8Array || typeof content === 'string' ? content : `${JSON.stringify(content, null, 2)}\n`;
    writeFileSync(join(dir, name), body);
  }
}

export function elapsed(start: number): string {
  const s = (performance.now() - start) / 1000;
  return s < 120 ? `${s.toFixed(0)} s` : `${(s / 60).toFixed(1)} min`;
}
