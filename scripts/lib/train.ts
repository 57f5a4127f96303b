// What both training scripts share: a seeded generator, an Adam step on a Map of variables, and
// writing a model directory as a Hugging Face checkpoint. The learning-rate schedule is the
// engine's (src/engine/recovery/schedule.ts), which recovery after pruning uses too.
import * as tf from '@tensorflow/tfjs';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
export { useWasm } from '../../src/engine/backends/node-wasm';
import { serializeWeights } from '../../src/engine/model/checkpoint';
import { toHostWeights } from '../../src/engine/model/weights';
import { Mulberry32 } from '../../src/engine/pruning/random';
import type { Weights } from '../../src/engine/model/types';

/** The engine's mulberry32 as a function: the same sequence on every machine for a seed. */
export function rng(seed: number): () => number {
  const g = new Mulberry32(seed);
  return () => g.next();
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
