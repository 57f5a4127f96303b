// --recover on prune, sweep and export, driven in-process on the tiny GPT-2: the JSON states the
// metric before and after and the loss curve, the export holds the recovered weights (the mask
// still applied) and a LoRA adapter in PEFT's layout, and what cannot be recovered is refused.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readSafetensors } from '../engine/io/safetensors';
import { loadCheckpoint } from '../engine/model/checkpoint';
import { runCli as run, textSet, tinyGptFiles, writeFolder } from './test-support';

const tmp = mkdtempSync(join(tmpdir(), 'cli-recover-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const verse = 'In the beginning God created the heaven and the earth. ';
const gpt = writeFolder(
  join(tmp, 'gpt'),
  tinyGptFiles({ 'eval.safetensors': textSet(verse.repeat(3)), 'calib.safetensors': textSet(verse.repeat(6)) }),
);
const prune = ['--model', gpt, '--method', 'magnitude', '--quiet'];

describe('--recover', () => {
  it('prune --json: the metric before and after, the loss of every step, the settings with their defaults', async () => {
    const r = await run([
      'prune',
      ...prune,
      '--sparsity',
      '0.6',
      '--recover',
      'finetune',
      '--recover-steps',
      '8',
      '--recover-lr',
      '0.003',
      '--recover-batch',
      '2',
      '--recover-eval-every',
      '4',
      '--json',
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const res = JSON.parse(r.stdout);
    expect(res.metric.kind).toBe('lm');
    const rec = res.recovery;
    expect(rec.recovery).toMatchObject({
      mode: 'finetune',
      steps: 8,
      learningRate: 0.003,
      batchSize: 2,
      data: 'train',
    });
    expect(rec.before).toEqual(res.metric);
    expect(rec.after.bitsPerByte).toBeLessThan(rec.before.bitsPerByte);
    expect(rec.lossCurve.map((p: { step: number }) => p.step)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(rec.metricCurve.map((p: { step: number }) => p.step)).toEqual([0, 4, 8]);
  });

  it('prune and sweep in words: the recovery block, and "recovered" on every point', async () => {
    const p = await run(['prune', ...prune, '--sparsity', '0.5', '--recover', 'distill', '--recover-steps', '2']);
    expect(p.code).toBe(0);
    expect(p.stdout).toMatch(
      /^recovery +Distillation, 2 of 2 steps, lr 0\.0001, batch 8 on \d+ windows.* \([\d.]+ passes over the data\)$/m,
    );
    expect(p.stdout).toMatch(/^before +.*bits\/byte/m);
    expect(p.stdout).toMatch(/^after +.*bits\/byte/m);
    const s = await run(['sweep', ...prune, '--sparsities', '0.3,0.6', '--recover', 'lora', '--recover-steps', '2']);
    expect(s.code).toBe(0);
    const lines = s.stdout.trim().split('\n');
    expect(lines).toHaveLength(2);
    for (const line of lines) expect(line).toMatch(/→ {2}recovered .*bits\/byte/);
  });

  it('export --recover lora: recovered weights with the mask still applied, the adapter in PEFT’s layout', async () => {
    const out = join(tmp, 'lora-export');
    const r = await run([
      'export',
      ...prune,
      '--sparsity',
      '0.5',
      '--out',
      out,
      '--recover',
      'lora',
      '--recover-steps',
      '3',
      '--lora-rank',
      '2',
      '--recover-lr',
      '0.01',
      '--json',
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const res = JSON.parse(r.stdout);
    const names = res.files.map((f: { name: string }) => f.name);
    expect(names).toContain('adapter/adapter_config.json');
    expect(names).toContain('adapter/adapter_model.safetensors');
    const config = JSON.parse(readFileSync(join(out, 'adapter', 'adapter_config.json'), 'utf8'));
    expect(config).toMatchObject({
      peft_type: 'LORA',
      r: 2,
      lora_alpha: 4,
      fan_in_fan_out: true,
      task_type: 'CAUSAL_LM',
    });
    const adapter = readSafetensors(new Uint8Array(readFileSync(join(out, 'adapter', 'adapter_model.safetensors'))));
    const a = adapter.tensors.get('base_model.model.transformer.h.0.mlp.c_fc.lora_A.weight')!;
    const b = adapter.tensors.get('base_model.model.transformer.h.0.mlp.c_fc.lora_B.weight')!;
    const ck = loadCheckpoint({
      config: JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')),
      weights: new Uint8Array(readFileSync(join(out, 'model.safetensors'))),
      tokenizer: JSON.parse(readFileSync(join(out, 'tokenizer.json'), 'utf8')),
    });
    const w = ck.weights.get('transformer.h.0.mlp.c_fc.weight')!;
    // Conv1D: W is [in, out]; lora_A [r, in], lora_B [out, r].
    expect(a.shape).toEqual([2, w.shape[0]]);
    expect(b.shape).toEqual([w.shape[1], 2]);
    const masks = readSafetensors(new Uint8Array(readFileSync(join(out, 'masks.safetensors'))));
    for (const [name, m] of masks.tensors) {
      const data = ck.weights.get(name)!.data;
      expect(
        Array.from(data).filter((v, i) => !m.data[i] && v !== 0),
        name,
      ).toEqual([]);
    }
    const recipe = JSON.parse(readFileSync(join(out, 'recipe.json'), 'utf8'));
    expect(recipe.recovery.recovery).toMatchObject({ mode: 'lora', rank: 2, alpha: 4, steps: 3 });
    expect(recipe.notes.join(' ')).toMatch(/adapter\/ holds the LoRA adapter in PEFT's format.*mask applied again/);
  });

  it('--recover-data reads the user’s text; bad requests are refused in one line', async () => {
    const text = join(tmp, 'train.txt');
    writeFileSync(text, verse.repeat(8));
    const ok = await run([
      'prune',
      ...prune,
      '--sparsity',
      '0.5',
      '--recover',
      'finetune',
      '--recover-steps',
      '1',
      '--recover-data',
      text,
      '--json',
    ]);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout).recovery.recovery.data).toBe(text);
    const cases: [string[], number, RegExp][] = [
      [
        ['--recover-steps', '5'],
        2,
        /^error: --recover-steps sets how the pruned model is recovered: give --recover too/,
      ],
      [
        ['--recover', 'finetune', '--lora-rank', '4'],
        2,
        /^error: --lora-rank is the adapters’ rank: it applies to --recover lora only/,
      ],
      [
        ['--recover', 'lora', '--distill-temperature', '2'],
        2,
        /^error: --distill-temperature .* applies to --recover distill only/,
      ],
      [
        ['--recover', 'finetune', '--bits', '4'],
        2,
        /^error: --recover with --bits: training would move the quantized weights off their grid/,
      ],
      [
        ['--recover', 'prune-harder'],
        2,
        /^error: unknown recovery mode "prune-harder" \(expected one of: finetune, distill, lora\)/,
      ],
      [
        ['--recover', 'finetune', '--recover-data', join(tmp, 'missing.txt')],
        1,
        /^error: recovery file .*missing\.txt does not exist/,
      ],
    ];
    for (const [extra, code, msg] of cases) {
      const r = await run(['prune', ...prune, '--sparsity', '0.5', ...extra]);
      expect(r.code, extra.join(' ')).toBe(code);
      expect(r.stderr, extra.join(' ')).toMatch(msg);
      expect(r.stderr.trim().split('\n'), extra.join(' ')).toHaveLength(1);
    }
  });
});
