// The default models as shipped: each directory loads as a checkpoint of its architecture, holds
// what its model card promises, stays under 8 MB, and is actually trained (measured on a slice of
// its own eval set here; the full figures come from `npm run eval`).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { useWasm } from '../src/engine/backends/node-wasm';
import { ModelSession } from '../src/engine/session';
import { evaluateClassifier, evaluateLm } from '../src/engine/eval/metrics';
import { byteLevelTokenizerJson } from '../src/engine/model/tokenizer';
import { readModelDir } from '../src/cli/model-dir';
import { GPT_BYTES_TOKENIZER_CONFIG } from './train-gpt';

const dirSize = (dir: string) => readdirSync(dir).reduce((a, f) => a + statSync(join(dir, f)).size, 0);

describe('shipped default models', () => {
  beforeAll(useWasm);

  it('vit-fashion is a trained ViTForImageClassification under 8 MB', async () => {
    const dir = 'public/models/vit-fashion';
    expect(dirSize(dir)).toBeLessThan(8 * 1024 * 1024);
    const s = ModelSession.open(readModelDir(dir).files);
    expect(s.summary().architecture).toBe('ViTForImageClassification');
    expect(s.config.kind === 'vit' && s.config.labels[9]).toBe('Ankle boot');
    const set = s.evalSet!;
    if (set.kind !== 'images' || s.config.kind !== 'vit') throw new Error('expected images');
    const n = 200;
    const m = await evaluateClassifier(s.config, s.weights, set.pixels.subarray(0, n * 784), set.labels.subarray(0, n));
    expect(m.accuracy).toBeGreaterThan(0.8); // chance is 0.1; the full test set gives ≥ 88%
    s.dispose();
  });

  it('gpt-bytes is a trained byte-level GPT2LMHeadModel under 8 MB whose tokenizer is ours', async () => {
    const dir = 'public/models/gpt-bytes';
    expect(dirSize(dir)).toBeLessThan(8 * 1024 * 1024);
    expect(JSON.parse(readFileSync(join(dir, 'tokenizer.json'), 'utf8'))).toEqual(byteLevelTokenizerJson());
    // Without it AutoTokenizer adds a 257th token the model cannot embed.
    expect(JSON.parse(readFileSync(join(dir, 'tokenizer_config.json'), 'utf8'))).toEqual(GPT_BYTES_TOKENIZER_CONFIG);
    const s = ModelSession.open(readModelDir(dir).files);
    expect(s.summary().architecture).toBe('GPT2LMHeadModel');
    const set = s.evalSet!;
    if (set.kind !== 'text' || s.config.kind !== 'gpt2') throw new Error('expected text');
    const bytes = set.bytes.subarray(0, 2 * 1024 + 1);
    const m = await evaluateLm(s.config, s.weights, Int32Array.from(bytes), bytes.length);
    expect(m.bitsPerByte).toBeLessThan(2.5); // uniform is 8; the full held-out set gives the card's figure
    s.dispose();
  });
});
