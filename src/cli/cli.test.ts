// The CLI driven in-process (main with argv and captured streams) on tiny model directories.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli, textSet, tinyGptFiles, writeFolder } from './test-support';
import { Progress } from './progress';
import { parseSparsity } from './args';
import { HELP } from './help';
import {
  ALLOCATIONS,
  allocationEntry,
  citeShort,
  defaultCalibrationMode,
  GRANULARITIES,
  granularityEntry,
  ids,
  METHODS,
  methodEntry,
  scopeEntry,
  scoresFor,
  structuredScoreEntry,
} from '../engine/pruning/catalogue';
import { loadCheckpoint, serializeWeights } from '../engine/model/checkpoint';
import { randomHostWeights, tinyVit, TINY_GPT2_CONFIG, TINY_VIT_CONFIG } from '../engine/model/tiny-models';
import { readSafetensors, writeSafetensors } from '../engine/io/safetensors';

const tmp = mkdtempSync(join(tmpdir(), 'cli-test-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function gptDir(name: string, evalText = 'And God said, Let there be light: and there was light. '.repeat(3)): string {
  return writeFolder(
    join(tmp, name),
    tinyGptFiles({
      'generation_config.json': new TextEncoder().encode(JSON.stringify({ bos_token_id: 10 })),
      'eval.safetensors': textSet(evalText),
      'calib.safetensors': textSet('In the beginning God created the heaven and the earth. '.repeat(4)),
    }),
  );
}

function vitDir(name: string): string {
  const dir = join(tmp, name);
  mkdirSync(dir, { recursive: true });
  const c = tinyVit();
  writeFileSync(join(dir, 'config.json'), JSON.stringify(TINY_VIT_CONFIG));
  writeFileSync(join(dir, 'model.safetensors'), serializeWeights(randomHostWeights(c, 4)));
  const n = 6;
  const images = Uint8Array.from({ length: n * c.numChannels * c.imageSize ** 2 }, (_, i) => (i * 37) % 256);
  const labels = Uint8Array.from({ length: n }, (_, i) => i % c.labels.length);
  writeFileSync(
    join(dir, 'eval.safetensors'),
    writeSafetensors({
      images: { dtype: 'U8', shape: [n, c.numChannels, c.imageSize, c.imageSize], data: images },
      labels: { dtype: 'U8', shape: [n], data: labels },
    }),
  );
  return dir;
}

const run = runCli;

const gpt = gptDir('gpt');
// Token pruning is measured here on one 16-token window (one forward of batch 1): tfjs-backend-wasm
// 4.22's gather with batchDims indexes a batch's indices by the batch count, not the indices per
// batch (tensorflow/tfjs#8658), so a token-pruned batch of several windows reads wrong rows or
// crashes ("memory access out of bounds") on WASM.
const gptOneWindow = gptDir('gpt-one-window', 'Let there be light: and.');

const literal = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** One "error:" line naming each of the choices, in order. */
const naming = (...names: string[]) => new RegExp(`^error: .*${names.map(literal).join('.*')}`);

/** A value's entry in --help: its row and the rows under it, on one line. */
function helpEntry(help: string, id: string): string {
  const lines = help.split('\n');
  const at = lines.findIndex((l) => new RegExp(`^ +${literal(id)}  `).test(l));
  if (at < 0) return '';
  const indent = lines[at].search(/\S/);
  const rest = lines.slice(at + 1);
  const end = rest.findIndex((l) => l.search(/\S/) <= indent);
  return [lines[at], ...rest.slice(0, end < 0 ? rest.length : end)].join(' ').replace(/\s+/g, ' ');
}

describe('cli', () => {
  it('prune --json prints one valid report on stdout; progress goes to stderr', async () => {
    const r = await run([
      'prune',
      '--model',
      gpt,
      '--method',
      'wanda',
      '--sparsity',
      '0.5',
      '--calib-count',
      '2',
      '--seed',
      '3',
      '--json',
    ]);
    expect(r.stderr).not.toMatch(/error:/);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.recipe).toMatchObject({
      method: 'wanda',
      sparsity: 0.5,
      scope: 'row',
      allocation: 'uniform',
      calibration: { source: 'train', count: 2, seed: 3 },
    });
    // Every default is filled in, so the report says what ran: the calibration mode too.
    expect(report.recipe.calibrationMode).toBe(defaultCalibrationMode('wanda', 'causal-lm'));
    expect(report.recipe.calibrationMode).not.toBeNull();
    expect(report.sparsity).toBeCloseTo(0.5, 6);
    expect(report.metric.kind).toBe('lm');
    expect(report.metric.bitsPerByte).toBeGreaterThan(0);
    expect(report.calibration).toMatch(/2 windows/);
    expect(report.nonzeroParams).toBeLessThan(report.params);
    expect(report.blockSparsity).toEqual([0.5, 0.5]);
    expect(r.stderr).toMatch(/evaluating \d+%/);
  });

  it('prune without --json prints a readable summary; --nm implies the sparsity; a text file calibrates', async () => {
    const txt = join(tmp, 'calib.txt');
    writeFileSync(txt, 'Blessed are the meek: for they shall inherit the earth. '.repeat(3));
    const r = await run([
      'prune',
      '--model',
      gpt,
      '--method',
      'sparsegpt',
      '--nm',
      '2:4',
      '--calib',
      txt,
      '--calib-count',
      '2',
      '--quiet',
    ]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/recipe +sparsegpt at 50\.0% sparsity · 2:4/);
    expect(r.stdout).toMatch(/in the custom text/);
    expect(r.stdout).toMatch(/2:4 /); // the 2:4 size line
  });

  it('sweep --json streams one JSON line per sparsity', async () => {
    const r = await run([
      'sweep',
      '--model',
      gpt,
      '--method',
      'magnitude',
      '--sparsities',
      '0.2,50%,0.8',
      '--json',
      '--quiet',
    ]);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines.map((l) => Math.round(JSON.parse(l).sparsity * 10) / 10)).toEqual([0.2, 0.5, 0.8]);
    expect(lines.every((l) => JSON.parse(l).recipe.method === 'magnitude')).toBe(true);
  });

  it('eval reports the dense metric and cost of a ViT', async () => {
    const r = await run(['eval', '--model', vitDir('vit'), '--json']);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.architecture).toBe('ViTForImageClassification');
    expect(out.metric).toMatchObject({ kind: 'classifier', count: 6 });
    expect(out.cost.params).toBeGreaterThan(0);
    expect(out.cost.blockParams).toHaveLength(2);
  });

  it('export writes a checkpoint that loads back, with masks, recipe and the copied files', async () => {
    const out = join(tmp, 'exported');
    const r = await run([
      'export',
      '--model',
      gpt,
      '--out',
      out,
      '--method',
      'magnitude',
      '--sparsity',
      '0.25',
      '--json',
      '--quiet',
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const res = JSON.parse(r.stdout);
    expect(res.files.map((f: { name: string }) => f.name).sort()).toEqual([
      'config.json',
      'generation_config.json',
      'masks.safetensors',
      'model.safetensors',
      'recipe.json',
      'tokenizer.json',
    ]);
    const ck = loadCheckpoint({
      config: JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')),
      weights: new Uint8Array(readFileSync(join(out, 'model.safetensors'))),
      tokenizer: JSON.parse(readFileSync(join(out, 'tokenizer.json'), 'utf8')),
    });
    const masks = readSafetensors(new Uint8Array(readFileSync(join(out, 'masks.safetensors'))));
    const name = 'transformer.h.0.mlp.c_fc.weight';
    const m = masks.tensors.get(name)!.data;
    expect(Array.from(m).reduce((a, v) => a + v, 0) / m.length).toBeCloseTo(0.75, 6);
    expect(Array.from(ck.weights.get(name)!.data).filter((v, i) => !m[i] && v !== 0)).toEqual([]);
    const recipe = JSON.parse(readFileSync(join(out, 'recipe.json'), 'utf8'));
    expect(recipe.metrics.metric.kind).toBe('lm');
    expect(recipe.metrics.dense.kind).toBe('lm');
    expect(recipe.recipe.method).toBe('magnitude');
    // Exporting over it again needs --force.
    const again = await run([
      'export',
      '--model',
      gpt,
      '--out',
      out,
      '--method',
      'magnitude',
      '--sparsity',
      '0.25',
      '--quiet',
    ]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/^error: .*already holds a checkpoint.*--force/);
  });

  it('structured prune --json: a valid report with the structure removed and fewer FLOPs than dense', async () => {
    const r = await run([
      'prune',
      '--model',
      gpt,
      '--granularity',
      'heads',
      '--sparsity',
      '0.5',
      '--calib-count',
      '2',
      '--json',
    ]);
    expect(r.stderr).not.toMatch(/error:/);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.recipe).toEqual({
      granularity: 'heads',
      amount: 0.5,
      score: 'norm',
      scope: 'layer',
      calibration: { source: 'train', count: 2, seed: 0 },
    });
    expect(report.structure).toMatch(/^2 of 4 heads removed by norm \(layer\)/);
    expect(report.metric.kind).toBe('lm');
    expect(report.metric.bitsPerByte).toBeGreaterThan(0);
    expect(report.calibration).toMatch(/2 windows/);
    expect(report.flops).toBeLessThan(report.denseFlops);
    expect(report.nonzeroParams).toBeLessThan(report.params);
    expect(report.sparsity).toBeGreaterThan(0);
    expect(report.blockSparsity).toHaveLength(2);
    expect(r.stderr).toMatch(/evaluating \d+%/);

    // Tokens: no calibration, the default first block, an inference-time FLOPs saving.
    const t = await run([
      'prune',
      '--model',
      gptOneWindow,
      '--granularity',
      'tokens',
      '--sparsity',
      '50%',
      '--json',
      '--quiet',
    ]);
    expect(t.stderr).toBe('');
    expect(t.code).toBe(0);
    const tr = JSON.parse(t.stdout);
    expect(tr.recipe).toEqual({
      granularity: 'tokens',
      amount: 0.5,
      score: scoresFor('tokens', 'causal-lm')[0].id,
      tokenFrom: 1,
    });
    expect(tr.calibration).toBeNull();
    expect(tr.flops).toBeLessThan(tr.denseFlops);
    expect(tr.nonzeroParams).toBe(tr.params);
    expect(tr.structure).toMatch(
      /^keep 50% of tokens at each block from block 1, ranked by last-query; scored on the last position of \d+ windows, one every \d+ tokens/,
    );
  });

  it('structured prune without --json shows the structure line; sweep yields one point per amount', async () => {
    const r = await run([
      'prune',
      '--model',
      gpt,
      '--granularity',
      'blocks',
      '--score',
      'angular',
      '--sparsity',
      '0.5',
      '--calib-count',
      '2',
      '--quiet',
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^recipe +blocks: 50\.0% removed · angular score$/m);
    expect(r.stdout).toMatch(/^structure +blocks \d removed by angular$/m);
    expect(r.stdout).toMatch(/^FLOPs +.* dense per example \((?!100\.0%)[\d.]+%\)$/m);

    const s = await run([
      'sweep',
      '--model',
      gpt,
      '--granularity',
      'neurons',
      '--scope',
      'global',
      '--sparsities',
      '0,0.25,50%',
      '--calib-count',
      '2',
      '--json',
      '--quiet',
    ]);
    expect(s.stderr).toBe('');
    expect(s.code).toBe(0);
    const points = s.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(points.map((p) => p.recipe.amount)).toEqual([0, 0.25, 0.5]);
    expect(
      points.every(
        (p) => p.recipe.granularity === 'neurons' && p.recipe.score === 'activation' && p.recipe.scope === 'global',
      ),
    ).toBe(true);
    expect(points[0].flops).toBe(points[0].denseFlops);
    expect(points[1].flops).toBeLessThan(points[0].flops);
    expect(points[2].flops).toBeLessThan(points[1].flops);
    expect(points[2].structure).toMatch(/24 of 48 FFN neurons removed by activation \(global\)/);

    const text = await run([
      'sweep',
      '--model',
      gptOneWindow,
      '--granularity',
      'tokens',
      '--sparsities',
      '0.25,0.5',
      '--quiet',
    ]);
    expect(text.code).toBe(0);
    expect(
      text.stdout
        .trim()
        .split('\n')
        .map((l) => l.split(/\s+/).slice(0, 2).join(' ')),
    ).toEqual(['tokens 25.0%', 'tokens 50.0%']);
  });

  it('structured export: heads are zeroed, blocks are removed and n_layer shrinks; both load back', async () => {
    const load = (dir: string) =>
      loadCheckpoint({
        config: JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')),
        weights: new Uint8Array(readFileSync(join(dir, 'model.safetensors'))),
        tokenizer: JSON.parse(readFileSync(join(dir, 'tokenizer.json'), 'utf8')),
      });
    const heads = join(tmp, 'exported-heads');
    let r = await run([
      'export',
      '--model',
      gpt,
      '--out',
      heads,
      '--granularity',
      'heads',
      '--score',
      'entropy',
      '--sparsity',
      '0.5',
      '--calib-count',
      '2',
      '--json',
      '--quiet',
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    let ck = load(heads);
    expect(ck.config.raw.n_layer).toBe(2);
    let recipe = JSON.parse(readFileSync(join(heads, 'recipe.json'), 'utf8'));
    expect(recipe.recipe).toMatchObject({ granularity: 'heads', amount: 0.5, score: 'entropy', scope: 'layer' });
    expect(recipe.blocks.map((b: { heads: number }) => b.heads)).toEqual([1, 1]);
    expect(recipe.structure.removedBlocks).toEqual([]);
    expect(recipe.metrics.metric.kind).toBe('lm');
    expect(recipe.metrics.flops).toBeLessThan(recipe.metrics.denseFlops);
    expect(recipe.notes.join(' ')).toMatch(/2 of 4 heads removed by entropy/);
    // Of each block's c_attn (in_out, [16, 48]), the q, k and v columns of one 8-wide head are zero.
    const masks = readSafetensors(new Uint8Array(readFileSync(join(heads, 'masks.safetensors'))));
    for (const l of [0, 1]) {
      const name = `transformer.h.${l}.attn.c_attn.weight`;
      const m = masks.tensors.get(name)!.data;
      expect(Array.from(m).reduce((a, v) => a + v, 0)).toBe(16 * 24);
      expect(Array.from(ck.weights.get(name)!.data).filter((v, i) => !m[i] && v !== 0)).toEqual([]);
    }

    const blocks = join(tmp, 'exported-blocks');
    r = await run([
      'export',
      '--model',
      gpt,
      '--out',
      blocks,
      '--granularity',
      'blocks',
      '--sparsity',
      '0.5',
      '--calib-count',
      '2',
      '--quiet',
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^structure +blocks \d removed by angular-window$/m);
    expect(r.stdout).toMatch(/^blocks +1 removed \(\d\); the checkpoint has 1$/m);
    ck = load(blocks);
    expect(ck.config.raw.n_layer).toBe(1);
    expect(ck.weights.has('transformer.h.0.attn.c_attn.weight')).toBe(true);
    expect(ck.weights.has('transformer.h.1.attn.c_attn.weight')).toBe(false);
    recipe = JSON.parse(readFileSync(join(blocks, 'recipe.json'), 'utf8'));
    expect(recipe.structure.removedBlocks).toHaveLength(1);
    expect(recipe.recipe).toMatchObject({ granularity: 'blocks', amount: 0.5, score: 'angular-window' });
  });

  it('--bits quantizes the kept weights: the recipe says how, the size as stored counts the bits', async () => {
    const args = ['prune', '--model', gpt, '--method', 'sparsegpt', '--sparsity', '0.5', '--calib-count', '2'];
    const plain = JSON.parse((await run([...args, '--json'])).stdout);
    const r = await run([...args, '--bits', '4', '--group-size', '8', '--symmetric', '--json']);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.recipe.quant).toEqual({ bits: 4, groupSize: 8, symmetric: true, actOrder: false, quantizer: 'gptq' });
    expect(report.bytes.stored).toBeLessThan(plain.bytes.stored);
    expect(report.bytes.dense).toBe(plain.bytes.dense);
    const text = await run([...args, '--bits', '3', '--quantizer', 'rtn']);
    expect(text.stdout).toMatch(/^recipe .* · 3-bit rtn, per channel, zero points$/m);
    expect(text.stdout).toMatch(/^size +as stored [\d.]+ KiB · dense/m);
  });

  it('bad arguments: exit 2 with one "error:" line', async () => {
    const cases: [string[], RegExp][] = [
      [[], /Usage:/],
      [
        ['prune', '--model', gpt, '--method', 'wanda', '--sparsity', '0.5', '--group-size', '32'],
        /^error: --group-size sets how weights are quantized: give --bits too/,
      ],
      [
        ['prune', '--model', gpt, '--method', 'wanda', '--sparsity', '0.5', '--bits', '9'],
        /^error: --bits: must be at most 8/,
      ],
      [
        [
          'prune',
          '--model',
          gpt,
          '--method',
          'wanda',
          '--sparsity',
          '0.5',
          '--bits',
          '4',
          '--quantizer',
          'rtn',
          '--act-order',
        ],
        /^error: act-order orders GPTQ’s columns; “round to nearest” has no order/,
      ],
      [
        ['prune', '--model', gpt, '--method', 'sparsegpt', '--sparsity', '0.5', '--bits', '4', '--act-order'],
        /^error: “SparseGPT” chooses its mask block by block of columns in their input order/,
      ],
      [
        ['prune', '--model', gpt, '--granularity', 'heads', '--sparsity', '0.5', '--bits', '4'],
        /^error: quantization \(“GPTQ”\) applies to the weights a method keeps; “Attention heads” removes the heads instead/,
      ],
      [
        [
          'export',
          '--model',
          gpt,
          '--method',
          'wanda',
          '--sparsity',
          '0.5',
          '--out',
          join(tmp, 'never'),
          '--packed',
          'gptq',
        ],
        /^error: --packed gptq packs quantized weights: give --bits too/,
      ],
      [
        ['prune', '--model', gpt, '--method', 'wanda', '--sparsity', '0.5', '--search-steps', '3'],
        /^error: --search-steps applies to --allocation evopress only/,
      ],
      [['frobnicate'], /^error: unknown command "frobnicate"/],
      [
        ['prune', '--model', gpt, '--method', 'magic', '--sparsity', '0.5'],
        new RegExp(`^error: unknown method "magic" \\(expected one of: ${ids(METHODS).join(', ')}\\)`),
      ],
      [['prune', '--method', 'magnitude', '--sparsity', '0.5'], /^error: prune: --model is required/],
      [['prune', '--model', gpt, '--method', 'magnitude'], /^error: prune: --sparsity is required/],
      [
        ['prune', '--model', gpt, '--method', 'magnitude', '--sparsity', '1.5'],
        /^error: --sparsity: 1\.5 is outside \[0, 1\)/,
      ],
      [
        ['prune', '--model', gpt, '--method', 'magnitude', '--sparsity', 'half'],
        /^error: --sparsity: "half" is not a number/,
      ],
      [
        ['prune', '--model', gpt, '--method', 'magnitude', '--sparsity', '0.5', '--bogus'],
        /^error: prune: unknown option --bogus/,
      ],
      [['prune', '--model', gpt, '--method', 'wanda', '--nm', '4:2'], /^error: --nm: needs 1 ≤ N < M/],
      [['prune', '--model', gpt, '--method', 'wanda', '--nm', '2:4', '--sparsity', '0.7'], /conflicts with --nm 2:4/],
      [
        ['sweep', '--model', gpt, '--method', 'wanda', '--nm', '2:4', '--sparsities', '0.5'],
        /^error: sweep: N:M fixes/,
      ],
      [
        ['prune', '--model', gpt, '--method', 'wanda', '--sparsity', '0.5', '--scope', 'block'],
        /^error: unknown scope "block"/,
      ],
      [
        ['sweep', '--model', gpt, '--method', 'wanda', '--sparsities', '0.1,x'],
        /^error: --sparsities: "x" is not a number/,
      ],
      [['export', '--model', gpt, '--method', 'wanda', '--sparsity', '0.5'], /^error: export: --out is required/],
      [['eval', '--model'], /^error: eval: option --model needs a value/],
      [['eval', '--model', gpt, '--method', 'wanda'], /^error: eval: --method does not apply to eval/],
      // Combinations the catalogue refuses, in its words, naming both choices.
      [
        ['prune', '--model', gpt, '--method', 'wanda', '--sparsity', '0.5', '--scope', 'global', '--allocation', 'owl'],
        naming(scopeEntry('global').label, allocationEntry('owl').label),
      ],
      [
        ['prune', '--model', gpt, '--method', 'sparsegpt', '--sparsity', '0.5', '--scope', 'row'],
        naming(methodEntry('sparsegpt').label, scopeEntry('row').label),
      ],
      [
        ['prune', '--model', gpt, '--method', 'wanda', '--nm', '2:4', '--allocation', 'owl'],
        naming(granularityEntry('nm').label, allocationEntry('owl').label),
      ],
      [
        ['prune', '--model', gpt, '--method', 'magnitude', '--sparsity', '0.5', '--calib-mode', 'sequential'],
        naming(methodEntry('magnitude').label, 'sequential'),
      ],
      [
        ['prune', '--model', gpt, '--method', 'wanda', '--sparsity', '0.5', '--calib-mode', 'twice'],
        /^error: unknown calibration mode "twice" \(expected one of: sequential, one-shot\)/,
      ],
      // OWL's parameters: only with --allocation owl, within the catalogue's range.
      [
        ['prune', '--model', gpt, '--method', 'wanda', '--sparsity', '0.5', '--owl-m', '3'],
        /^error: --owl-m applies to --allocation owl only/,
      ],
      [
        [
          'prune',
          '--model',
          gpt,
          '--method',
          'wanda',
          '--sparsity',
          '0.5',
          '--allocation',
          'sensitivity',
          '--owl-lambda',
          '0.1',
        ],
        /^error: --owl-lambda applies to --allocation owl only/,
      ],
      [
        [
          'prune',
          '--model',
          gpt,
          '--method',
          'wanda',
          '--sparsity',
          '0.5',
          '--allocation',
          'owl',
          '--owl-lambda',
          '0.9',
        ],
        /^error: --owl-lambda: 0\.9 is outside \[0, 0\.5\]/,
      ],
      // Structured pruning.
      [
        ['prune', '--model', gpt, '--granularity', 'layers', '--sparsity', '0.5'],
        new RegExp(`^error: unknown granularity "layers" \\(expected one of: ${ids(GRANULARITIES).join(', ')}\\)`),
      ],
      [
        ['prune', '--model', gpt, '--granularity', 'heads', '--method', 'wanda', '--sparsity', '0.5'],
        naming(granularityEntry('heads').label, methodEntry('wanda').label),
      ],
      [
        ['prune', '--model', gpt, '--granularity', 'neurons', '--nm', '2:4'],
        /^error: --nm applies to --granularity nm only/,
      ],
      [
        ['sweep', '--model', gpt, '--granularity', 'blocks', '--allocation', 'owl', '--sparsities', '0.5'],
        naming(allocationEntry('owl').label, granularityEntry('blocks').label),
      ],
      [
        ['prune', '--model', gpt, '--method', 'magnitude', '--score', 'norm', '--sparsity', '0.5'],
        naming(granularityEntry('unstructured').label, 'structured score'),
      ],
      [
        ['prune', '--model', gpt, '--method', 'magnitude', '--token-from', '1', '--sparsity', '0.5'],
        /^error: --token-from applies to --granularity tokens only/,
      ],
      [
        ['prune', '--model', gpt, '--granularity', 'heads', '--score', 'activation', '--sparsity', '0.5'],
        new RegExp(`“activation” \\(its scores: ${ids(scoresFor('heads', 'causal-lm')).join(', ')}\\)`),
      ],
      [
        ['prune', '--model', gpt, '--granularity', 'sublayers', '--score', 'norm', '--sparsity', '0.5'],
        new RegExp(`“norm” \\(its scores: ${ids(scoresFor('sublayers', 'causal-lm')).join(', ')}\\)`),
      ],
      [
        ['prune', '--model', gpt, '--granularity', 'heads', '--scope', 'row', '--sparsity', '0.5'],
        naming(granularityEntry('heads').label, scopeEntry('row').label),
      ],
      [
        ['prune', '--model', gpt, '--granularity', 'blocks', '--scope', 'global', '--sparsity', '0.5'],
        naming(granularityEntry('blocks').label, scopeEntry('global').label),
      ],
      [
        ['prune', '--model', gpt, '--granularity', 'heads', '--token-from', '1', '--sparsity', '0.5'],
        /^error: --token-from applies to --granularity tokens only/,
      ],
      [
        ['prune', '--model', gpt, '--granularity', 'tokens', '--token-from', '0', '--sparsity', '0.5'],
        /^error: --token-from: must be at least 1, got 0/,
      ],
      // Refused once the model is loaded: the token scores differ between GPT-2 and ViT.
      [
        ['prune', '--model', gpt, '--granularity', 'tokens', '--token-from', '2', '--sparsity', '0.5', '--quiet'],
        /^error: --token-from 2: the model has 2 blocks/,
      ],
      [
        ['prune', '--model', gpt, '--granularity', 'tokens', '--score', 'norm', '--sparsity', '0.5', '--quiet'],
        new RegExp(`“norm” \\(its scores: ${ids(scoresFor('tokens', 'causal-lm')).join(', ')}\\)`),
      ],
      [
        [
          'prune',
          '--model',
          'public/models/gpt-bytes',
          '--granularity',
          'tokens',
          '--score',
          'cls',
          '--sparsity',
          '0.5',
          '--quiet',
        ],
        naming(structuredScoreEntry('tokens', 'cls', 'image-classifier').label, 'does not apply to language models'),
      ],
      [['prune', '--model', gpt, '--granularity', 'heads'], /^error: prune: --sparsity is required/],
      [
        ['prune', '--model', gpt, '--granularity', 'heads', '--sparsity', '1'],
        /^error: --sparsity: 1 is outside \[0, 1\) \(a fraction of the heads removed\)/,
      ],
      [
        ['export', '--model', gpt, '--out', join(tmp, 'never'), '--granularity', 'tokens', '--sparsity', '0.5'],
        /^error: export: --granularity tokens does not apply to export \(Tokens: .*the weights are unchanged\)/,
      ],
      [
        ['export', '--model', gpt, '--out', join(tmp, 'never'), '--method', 'wanda', '--token-from', '1'],
        /^error: export: --token-from does not apply to export/,
      ],
    ];
    for (const [argv, msg] of cases) {
      const r = await run(argv);
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.stdout, argv.join(' ')).toBe('');
      expect(r.stderr, argv.join(' ')).toMatch(msg);
      if (argv.length) expect(r.stderr.trim().split('\n'), argv.join(' ')).toHaveLength(1);
    }
  });

  it('--help lists every catalogue method and allocation with its label, summary and citation', async () => {
    for (const command of ['prune', 'sweep', 'export']) {
      const r = await run([command, '--help']);
      expect(r.code).toBe(0);
      expect(r.stdout).toBe(HELP[command as keyof typeof HELP]);
      for (const e of [...METHODS, ...ALLOCATIONS]) {
        const entry = helpEntry(r.stdout, e.id);
        expect(entry, `${command}: ${e.id}`).toContain(e.label);
        expect(entry, `${command}: ${e.id}`).toContain(e.summary.split(' ').slice(0, 3).join(' '));
        if (e.paper) expect(entry, `${command}: ${e.id}`).toContain(`(${citeShort(e.paper)})`);
      }
      for (const p of ALLOCATIONS.flatMap((a) => a.parameters.map((p) => `--${p.option ?? `${a.id}-${p.id}`}`)))
        expect(r.stdout, `${command}: ${p}`).toMatch(new RegExp(`^  ${literal(p)} `, 'm'));
      // Aligned columns within a terminal's width.
      expect(Math.max(...r.stdout.split('\n').map((l) => l.length)), command).toBeLessThanOrEqual(100);
    }
    // What export cannot write is not offered there.
    const exportHelp = (await run(['export', '--help'])).stdout;
    for (const g of GRANULARITIES) expect(helpEntry(exportHelp, g.id) !== '', g.id).toBe(g.exports);
    expect(exportHelp).not.toMatch(/--token-from/);
  });

  it('--help for each command goes to stdout with exit 0', async () => {
    for (const argv of [
      ['--help'],
      ['help', 'sweep'],
      ['prune', '--help'],
      ['sweep', '-h'],
      ['eval', '--help'],
      ['export', '--help'],
    ]) {
      const r = await run(argv);
      expect(r.code, argv.join(' ')).toBe(0);
      expect(r.stdout, argv.join(' ')).toMatch(/^Usage:/);
    }
  });

  it('a missing or corrupt checkpoint or data file: exit 1 with a message naming the problem, no stack', async () => {
    const bad = gptDir('corrupt');
    writeFileSync(join(bad, 'model.safetensors'), Buffer.from('this is not a safetensors file at all'));
    let r = await run(['prune', '--model', bad, '--method', 'magnitude', '--sparsity', '0.5']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /^error: .*corrupt[\\/]model\.safetensors is corrupt: header length \d+ (is absurd|exceeds)/m,
    );
    expect(r.stderr).not.toMatch(/\n\s+at /);

    const shape = gptDir('shape');
    writeFileSync(join(shape, 'config.json'), JSON.stringify({ ...TINY_GPT2_CONFIG, vocab_size: 256, n_inner: 32 }));
    r = await run(['eval', '--model', shape]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /^error: .*shape[\\/]model\.safetensors: tensor "transformer\.h\.0\.mlp\.c_fc\.weight" has shape \[16,24\] but config\.json implies \[16,32\]$/m,
    );

    const evalBad = gptDir('bad-eval');
    writeFileSync(join(evalBad, 'eval.safetensors'), new Uint8Array(4));
    r = await run(['eval', '--model', evalBad]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: .*bad-eval[\\/]eval\.safetensors is corrupt: file is 4 bytes/m);

    const badCalib = join(tmp, 'bad-calib.safetensors');
    writeFileSync(badCalib, new Uint8Array(4));
    r = await run(['prune', '--model', gpt, '--method', 'wanda', '--sparsity', '0.5', '--calib', badCalib]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: .*bad-calib\.safetensors is corrupt: file is 4 bytes/m);

    r = await run(['eval', '--model', join(tmp, 'nowhere')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: model directory .*nowhere does not exist/m);

    r = await run([
      'prune',
      '--model',
      gpt,
      '--method',
      'wanda',
      '--sparsity',
      '0.5',
      '--calib',
      join(tmp, 'missing.txt'),
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: calibration file .*missing\.txt does not exist/m);

    r = await run(['prune', '--model', vitDir('vit2'), '--method', 'wanda', '--sparsity', '0.5']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: no train data is available for calibration/m);
  });

  it('an aborted job stops with exit 130', async () => {
    const ctrl = new AbortController();
    ctrl.abort();
    const r = await run(
      ['prune', '--model', gpt, '--method', 'magnitude', '--sparsity', '0.5', '--quiet'],
      ctrl.signal,
    );
    expect(r.code).toBe(130);
    expect(r.stderr).toMatch(/^error: interrupted/);
  });
});

describe('cli entry point', () => {
  it('run as a program: JSON on stdout, exit codes 0 / 1 / 2', () => {
    const cli = (...argv: string[]) =>
      spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...argv], {
        encoding: 'utf8',
        timeout: 120_000,
      });
    const ok = cli('prune', '--model', gpt, '--method', 'random', '--sparsity', '0.3', '--json', '--quiet');
    expect(ok.stderr).not.toMatch(/error:/);
    expect(ok.status).toBe(0);
    expect(JSON.parse(ok.stdout).recipe.method).toBe('random');
    const bad = cli('prune', '--model', gpt, '--method', 'random');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/^error: prune: --sparsity is required/m);
    const missing = cli('eval', '--model', join(tmp, 'absent'), '--quiet');
    expect(missing.status).toBe(1);
    expect(missing.stderr.trim()).toMatch(/^error: model directory .*absent does not exist$/);
  });
});

describe('cli helpers', () => {
  it('parses sparsities as fractions or percentages', () => {
    expect(parseSparsity('0.5')).toBe(0.5);
    expect(parseSparsity('25%')).toBe(0.25);
    expect(parseSparsity('0')).toBe(0);
    expect(() => parseSparsity('1')).toThrow(/outside/);
    expect(() => parseSparsity('-0.1')).toThrow(/not a number/);
  });

  it('throttles progress lines when not on a terminal', () => {
    let out = '';
    let t = 0;
    const p = new Progress({ write: (s: string) => (out += s) }, true, 1000, () => t);
    p.update('pruning', 0);
    for (let i = 1; i < 10; i++) {
      t += 100;
      p.update('pruning', i / 10);
    }
    t += 1000;
    p.update('pruning', 0.95);
    p.update('evaluating', 0.1);
    p.update('evaluating', 1);
    expect(out).toBe('pruning 0%\npruning 95%\nevaluating 10%\nevaluating 100%\n');
  });
});
