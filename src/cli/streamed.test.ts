// eval, prune, sweep and export under --memory-budget: a model that does not fit whole is measured
// and pruned a block at a time, with the same report and the same files as the whole-model run; what
// cannot stream, or fit either way, is refused with the estimate. The shipped gpt-bytes with 4 calibration and 8
// evaluation windows needs about 240 MB whole and 209 MB a block at a time (the estimates are
// functions of the shapes and counts alone), so a 212 MB budget streams it.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseByteSize } from './args';
import { runCli } from './test-support';

const MODEL = 'public/models/gpt-bytes';
const SMALL = ['--calib-count', '4', '--eval-count', '8'];
const STREAMS = ['--memory-budget', '212MB'];
const tmp = mkdtempSync(join(tmpdir(), 'streamed-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const prune = (...more: string[]) =>
  runCli(['prune', '--model', MODEL, '--method', 'wanda', '--sparsity', '0.5', ...SMALL, '--json', ...more]);

describe('a model over the memory budget', () => {
  it('is pruned a block at a time, reporting what the whole-model run reports', async () => {
    const [whole, streamed] = [await prune(), await prune(...STREAMS)];
    expect(whole.code).toBe(0);
    expect(streamed.code, streamed.stderr).toBe(0);
    expect(whole.stderr).not.toMatch(/block at a time/);
    expect(streamed.stderr).toMatch(/whole model would need about 240 MB, over the memory budget of 212 MB/);
    expect(streamed.stderr).toMatch(/block 4\/4: pruning/);
    const [w, s] = [JSON.parse(whole.stdout), JSON.parse(streamed.stdout)];
    expect(s.streamed.blocksHeld).toBe(1);
    expect(s.metric.bitsPerByte).toBeCloseTo(w.metric.bitsPerByte, 5);
    for (const key of [
      'sparsity',
      'params',
      'nonzeroParams',
      'flops',
      'denseFlops',
      'bytes',
      'blockSparsity',
      'recipe',
    ])
      expect(s[key], key).toEqual(w[key]);
  });

  it('exports the same checkpoint files, written as each block is done', async () => {
    const out = (name: string) => join(tmp, name);
    const args = ['export', '--model', MODEL, '--method', 'wanda', '--nm', '2:4', ...SMALL, '--json'];
    const streamed = await runCli([...args, '--out', out('streamed'), ...STREAMS]);
    expect(streamed.code, streamed.stderr).toBe(0);
    expect(streamed.stderr).toMatch(/block at a time/);
    const whole = await runCli([...args, '--out', out('whole')]);
    expect(whole.code, whole.stderr).toBe(0);
    for (const f of ['model.safetensors', 'masks.safetensors', 'config.json', 'tokenizer.json'])
      expect(Buffer.compare(readFileSync(join(out('streamed'), f)), readFileSync(join(out('whole'), f))), f).toBe(0);
    const recipe = JSON.parse(readFileSync(join(out('streamed'), 'recipe.json'), 'utf8'));
    expect(recipe.notes).toContain('pruned a block at a time within the memory budget');
    expect(recipe.sparsity.fraction).toBe(0.5);
    // The streamed export opens as a model.
    const reopened = await runCli(['eval', '--model', out('streamed'), '--json']);
    expect(reopened.code, reopened.stderr).toBe(0);
  });

  it('refuses what cannot go a block at a time, or fit even so, with the estimate', async () => {
    const heads = await runCli([
      'prune',
      '--model',
      MODEL,
      '--granularity',
      'heads',
      '--sparsity',
      '0.25',
      ...SMALL,
      ...STREAMS,
    ]);
    expect(heads.code).toBe(1);
    expect(heads.stderr).toMatch(
      /a block at a time it cannot be pruned: “Attention heads” ranks .* across the whole model/,
    );
    const owl = await prune(...STREAMS, '--allocation', 'owl');
    expect(owl.code).toBe(1);
    expect(owl.stderr).toMatch(/the “OWL” allocation cannot: it ranks every block’s outlier ratio/);
    const tight = await prune('--memory-budget', '205MB');
    expect(tight.code).toBe(1);
    expect(tight.stderr).toMatch(
      /and a block at a time about 209 MB \(the runtime 200 MB; .*\): raise --memory-budget/,
    );
  });
});

describe('--memory-budget', () => {
  it('reads decimal and binary units', () => {
    expect(parseByteSize('1.2GB', 'x')).toBe(1.2e9);
    expect(parseByteSize('800M', 'x')).toBe(8e8);
    expect(parseByteSize('2GiB', 'x')).toBe(2 ** 31);
    expect(parseByteSize('4096', 'x')).toBe(4096);
    for (const bad of ['', 'lots', '-1GB', '0', '1.2TB'])
      expect(() => parseByteSize(bad, 'x'), bad).toThrow(/expected a size/);
  });

  it('is refused on predict, which reads one input through the whole model', async () => {
    const r = await runCli(['predict', '--model', MODEL, '--text', 'In the', '--memory-budget', '1GB']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--memory-budget does not apply to predict/);
  });
});

describe('eval and sweep over the memory budget', () => {
  it('eval measures a block at a time what the whole model measures', async () => {
    const args = ['eval', '--model', MODEL, '--eval-count', '8', '--json'];
    const [whole, streamed] = [await runCli(args), await runCli([...args, ...STREAMS])];
    expect(streamed.code, streamed.stderr).toBe(0);
    expect(streamed.stderr).toMatch(/over the memory budget of 212 MB; reading it a block at a time/);
    const [w, s] = [JSON.parse(whole.stdout), JSON.parse(streamed.stdout)];
    expect(s.metric.bitsPerByte).toBeCloseTo(w.metric.bitsPerByte, 5);
    for (const key of ['architecture', 'layers', 'cost', 'ignoredTensors']) expect(s[key], key).toEqual(w[key]);
  });

  /** The JSON lines of a sweep at 30% and 60%, whole and a block at a time, the second's stderr. */
  const sweeps = async (...more: string[]) => {
    const args = ['sweep', '--model', MODEL, '--method', 'wanda', '--sparsities', '0.3,0.6', ...SMALL, '--json'];
    const [whole, streamed] = [await runCli([...args, ...more]), await runCli([...args, ...more, ...STREAMS])];
    expect(streamed.code, streamed.stderr).toBe(0);
    const lines = (out: string) =>
      out
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
    const [w, s] = [lines(whole.stdout), lines(streamed.stdout)];
    expect(s.map((p) => p.recipe.sparsity)).toEqual([0.3, 0.6]);
    for (const [i, p] of s.entries()) {
      expect(p.metric.bitsPerByte).toBeCloseTo(w[i].metric.bitsPerByte, 5);
      expect(p.blockSparsity).toEqual(w[i].blockSparsity);
    }
    return { s, stderr: streamed.stderr };
  };

  it('sweep makes one pass per point, the dense model measured once, each point as the whole model’s', async () => {
    const { s, stderr } = await sweeps();
    expect(s[1].streamed.denseMetric).toEqual(s[0].streamed.denseMetric);
    expect(stderr).toMatch(/\[1\/2\] evaluating the dense model/);
    expect(stderr).not.toMatch(/\[2\/2\] evaluating the dense model/);
    // Sequential calibration depends on the sparsity: every point calibrates.
    expect(stderr).toMatch(/\[2\/2\] block 1\/4: calibrating/);
  });

  it('sweep one-shot calibrates for the first point only', async () => {
    const { stderr } = await sweeps('--calib-mode', 'one-shot');
    expect(stderr).toMatch(/\[1\/2\] block 1\/4: calibrating/);
    expect(stderr).not.toMatch(/\[2\/2\] block \d\/4: calibrating/);
  });
});
