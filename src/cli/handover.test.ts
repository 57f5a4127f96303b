// export --recipe: the tool's file lands next to the checkpoint and in the JSON listing; a recipe
// the tool cannot run exits 2 before anything is pruned or written.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { runCli, textSet, tinyGptFiles, writeFolder } from './test-support';

const tmp = mkdtempSync(join(tmpdir(), 'cli-handover-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function gptDir(): string {
  return writeFolder(
    join(tmp, 'gpt'),
    tinyGptFiles({ 'calib.safetensors': textSet('In the beginning God created the heaven and the earth. '.repeat(4)) }),
  );
}

const gpt = gptDir();

/** export of the tiny GPT-2 into `out` by `method` for `tool`, with `more` arguments. */
const exportFor = (out: string, method: string, tool: string, ...more: string[]) =>
  runCli(['export', '--model', gpt, '--out', out, '--method', method, '--recipe', tool, ...more]);

describe('export --recipe', () => {
  it('writes recipe.yaml beside the checkpoint and lists it', async () => {
    const out = join(tmp, 'wanda');
    const r = await exportFor(out, 'wanda', 'llm-compressor', '--nm', '2:4', '--json', '--quiet');
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
    const r = await exportFor(out, 'random', 'llm-compressor', '--sparsity', '0.5', '--quiet');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error: .*Random.*llm-compressor/);
    expect(existsSync(join(out, 'config.json'))).toBe(false);
    const t = await exportFor(out, 'wanda', 'torch-pruning', '--sparsity', '0.5', '--quiet');
    expect(t.code).toBe(2);
    expect(t.stderr).toMatch(/Unstructured.*Torch-Pruning/);
    const bad = await exportFor(out, 'wanda', 'tensorrt', '--sparsity', '0.5');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/unknown recipe format "tensorrt"/);
  });
});
