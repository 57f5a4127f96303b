// export --recipe: the tool's file lands next to the checkpoint and in the JSON listing; a recipe
// the tool cannot run exits 2 before anything is pruned or written.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { runCli } from './run-in-process';
import { serializeWeights } from '../engine/model/checkpoint';
import { byteLevelTokenizerJson } from '../engine/model/tokenizer';
import { randomHostWeights, tinyGpt2, TINY_GPT2_CONFIG } from '../engine/model/tiny-models';
import { writeSafetensors } from '../engine/io/safetensors';

const tmp = mkdtempSync(join(tmpdir(), 'cli-handover-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const textSet = (s: string) => {
  const bytes = new TextEncoder().encode(s);
  return writeSafetensors({ bytes: { dtype: 'U8', shape: [bytes.length], data: bytes } });
};

function gptDir(): string {
  const dir = join(tmp, 'gpt');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...TINY_GPT2_CONFIG, vocab_size: 256 }));
  writeFileSync(
    join(dir, 'model.safetensors'),
    serializeWeights(randomHostWeights({ ...tinyGpt2(), vocabSize: 256 }, 9)),
  );
  writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(byteLevelTokenizerJson()));
  writeFileSync(
    join(dir, 'calib.safetensors'),
    textSet('In the beginning God created the heaven and the earth. '.repeat(4)),
  );
  return dir;
}

const run = runCli;

const gpt = gptDir();

describe('export --recipe', () => {
  it('writes recipe.yaml beside the checkpoint and lists it', async () => {
    const out = join(tmp, 'wanda');
    const r = await run([
      'export',
      '--model',
      gpt,
      '--out',
      out,
      '--method',
      'wanda',
      '--nm',
      '2:4',
      '--recipe',
      'llm-compressor',
      '--json',
      '--quiet',
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const res = JSON.parse(r.stdout);
    expect(res.files.map((f: { name: string }) => f.name)).toContain('recipe.yaml');
    expect(res.handover.tool).toBe('llm-compressor');
    const data = parse(readFileSync(join(out, 'recipe.yaml'), 'utf8'), { version: '1.1' });
    expect(data.pruning_stage.pruning_modifiers.WandaPruningModifier).toMatchObject({
      sparsity: 0.5,
      mask_structure: '2:4',
    });
    expect(data).toEqual(res.handover.data);
  });

  it('exits 2 naming both choices when the tool cannot run the recipe, writing nothing', async () => {
    const out = join(tmp, 'random');
    const r = await run([
      'export',
      '--model',
      gpt,
      '--out',
      out,
      '--method',
      'random',
      '--sparsity',
      '0.5',
      '--recipe',
      'llm-compressor',
      '--quiet',
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error: .*Random.*llm-compressor/);
    expect(existsSync(join(out, 'config.json'))).toBe(false);
    const t = await run([
      'export',
      '--model',
      gpt,
      '--out',
      out,
      '--method',
      'wanda',
      '--sparsity',
      '0.5',
      '--recipe',
      'torch-pruning',
      '--quiet',
    ]);
    expect(t.code).toBe(2);
    expect(t.stderr).toMatch(/Unstructured.*Torch-Pruning/);
    const bad = await run([
      'export',
      '--model',
      gpt,
      '--out',
      out,
      '--method',
      'wanda',
      '--sparsity',
      '0.5',
      '--recipe',
      'tensorrt',
    ]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/unknown recipe format "tensorrt"/);
  });
});
