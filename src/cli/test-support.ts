// What the CLI's tests share: the CLI run in-process (main with argv and captured output streams),
// and the tiny GPT-2 they run it on as a model folder's files.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeSafetensors } from '../engine/io/safetensors';
import { serializeWeights } from '../engine/model/checkpoint';
import { randomHostWeights, tinyGpt2, TINY_GPT2_CONFIG } from '../engine/model/tiny-models';
import { byteLevelTokenizerJson } from '../engine/model/tokenizer';
import { main } from './main';

export async function runCli(argv: string[], signal?: AbortSignal) {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    signal,
  });
  return { code, stdout, stderr };
}

/** A text data set (eval.safetensors / calib.safetensors) holding `s`. */
export function textSet(s: string): Uint8Array {
  const bytes = new TextEncoder().encode(s);
  return writeSafetensors({ bytes: { dtype: 'U8', shape: [bytes.length], data: bytes } });
}

const json = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));

/** The tiny GPT-2 over bytes (weights of seed 9) as a model folder's files, with `extra` beside them. */
export function tinyGptFiles(extra: Record<string, Uint8Array> = {}): Map<string, Uint8Array> {
  return new Map([
    ['config.json', json({ ...TINY_GPT2_CONFIG, vocab_size: 256 })],
    ['model.safetensors', serializeWeights(randomHostWeights({ ...tinyGpt2(), vocabSize: 256 }, 9))],
    ['tokenizer.json', json(byteLevelTokenizerJson())],
    ...Object.entries(extra),
  ]);
}

/** Writes `files` into the folder `dir` (created); returns `dir`. */
export function writeFolder(dir: string, files: Map<string, Uint8Array>): string {
  mkdirSync(dir, { recursive: true });
  for (const [name, bytes] of files) writeFileSync(join(dir, name), bytes);
  return dir;
}
