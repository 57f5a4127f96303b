// Reads a model directory (public/models/<id>/ layout) from disk into the engine's ModelFiles.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ModelFiles } from '../../src/engine/session';

export function readModelDir(dir: string): ModelFiles {
  const opt = (name: string) => (existsSync(join(dir, name)) ? new Uint8Array(readFileSync(join(dir, name))) : undefined);
  const json = (name: string) => {
    const b = opt(name);
    return b && JSON.parse(new TextDecoder().decode(b));
  };
  if (!existsSync(join(dir, 'config.json'))) throw new Error(`${dir}: no config.json (is this a model directory?)`);
  return {
    config: json('config.json'),
    weights: opt('model.safetensors') ?? new Uint8Array(),
    tokenizer: json('tokenizer.json'),
    evalSet: opt('eval.safetensors'),
    calibSet: opt('calib.safetensors'),
  };
}
