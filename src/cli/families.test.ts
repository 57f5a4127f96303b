// The CLI on the Llama family as the hub ships it: a BF16 checkpoint in two shards with its index,
// pruned by heads (whole key/value groups, the same in every block) and by weights, exported and
// loaded back: the export keeps BF16, the shard layout and torch_dtype, and is smaller where
// config.json can say it.
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from './test-support';
import { gatherWeightFiles, loadCheckpoint } from '../engine/model/checkpoint';
import { parseConfig } from '../engine/model/config';
import { byteLevelTokenizerJson } from '../engine/model/tokenizer';
import { randomHostWeights, TINY_LLAMA_CONFIG } from '../engine/model/tiny-models';
import { readSafetensorsHeader, writeSafetensors, type TensorEntry } from '../engine/io/safetensors';
import { writeShardIndex } from '../engine/io/shard-index';

const tmp = mkdtempSync(join(tmpdir(), 'cli-families-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const RAW = { ...TINY_LLAMA_CONFIG, vocab_size: 256, max_position_embeddings: 16, torch_dtype: 'bfloat16' };

/** A sharded BF16 Llama directory: block 0 and the embeddings in one shard, the rest in the other. */
function llamaDir(): string {
  const dir = join(tmp, 'llama-bf16');
  mkdirSync(dir, { recursive: true });
  const weights = randomHostWeights(parseConfig(RAW), 3);
  const shards = [new Map<string, TensorEntry>(), new Map<string, TensorEntry>()];
  const map = new Map<string, string>();
  let total = 0;
  for (const [name, t] of weights) {
    const i = name.startsWith('model.layers.1.') || name.startsWith('lm_head') || name === 'model.norm.weight' ? 1 : 0;
    shards[i].set(name, { dtype: 'BF16', shape: t.shape, data: t.data });
    map.set(name, `model-0000${i + 1}-of-00002.safetensors`);
    total += 2 * t.data.length;
  }
  for (const [i, s] of shards.entries())
    writeFileSync(join(dir, `model-0000${i + 1}-of-00002.safetensors`), writeSafetensors(s, { format: 'pt' }));
  writeFileSync(join(dir, 'model.safetensors.index.json'), writeShardIndex(map, total));
  writeFileSync(join(dir, 'config.json'), JSON.stringify(RAW));
  writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(byteLevelTokenizerJson()));
  const text = new TextEncoder().encode('And God said, Let there be light: and there was light. '.repeat(3));
  writeFileSync(
    join(dir, 'eval.safetensors'),
    writeSafetensors({ bytes: { dtype: 'U8', shape: [text.length], data: text } }),
  );
  return dir;
}

const run = runCli;

function reload(dir: string) {
  const files = new Map(readdirSync(dir).map((f) => [f, new Uint8Array(readFileSync(join(dir, f)))]));
  const config = JSON.parse(new TextDecoder().decode(files.get('config.json')!));
  return {
    config,
    files,
    ck: loadCheckpoint({ config, ...gatherWeightFiles((n) => files.get(n))!, tokenizer: byteLevelTokenizerJson() }),
  };
}

describe('CLI on a sharded BF16 Llama', () => {
  const dir = llamaDir();

  it('evaluates it', async () => {
    const r = await run(['eval', '--model', dir, '--json', '--quiet']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).metric.bitsPerByte).toBeGreaterThan(0);
  });

  it('exports head pruning physically smaller, in BF16 shards', async () => {
    const out = join(tmp, 'heads');
    const r = await run([
      'export',
      ...['--model', dir, '--out', out, '--granularity', 'heads', '--sparsity', '0.5', '--score', 'norm'],
      ...['--calib', 'held-out', '--json', '--quiet'],
    ]);
    expect(r.code, r.stderr).toBe(0);
    const { config, files, ck } = reload(out);
    expect(config.torch_dtype).toBe('bfloat16');
    expect(files.has('model.safetensors.index.json')).toBe(true);
    for (const [name, bytes] of files)
      if (name.endsWith('.safetensors') && name !== 'masks.safetensors')
        for (const t of readSafetensorsHeader(bytes).tensors) expect(t.dtype, `${name} ${t.name}`).toBe('BF16');
    const recipe = JSON.parse(new TextDecoder().decode(files.get('recipe.json')!));
    // Half the query heads of every block go; on these seeded weights the norm score takes one
    // whole key/value group in each block, which config.json can say.
    expect(recipe.structure.heads).toBe('removed');
    expect(config).toMatchObject({ num_attention_heads: 2, num_key_value_heads: 1 });
    expect(ck.config.kind).toBe('llama');
  });

  it('exports 2:4 Wanda keeping every tensor BF16 and the shard names', async () => {
    const out = join(tmp, 'wanda');
    const r = await run([
      'export',
      ...['--model', dir, '--out', out, '--method', 'wanda', '--sparsity', '0.5', '--nm', '2:4'],
      ...['--calib', 'held-out', '--calib-count', '2', '--json', '--quiet'],
    ]);
    expect(r.code, r.stderr).toBe(0);
    const { files, ck } = reload(out);
    expect([...files.keys()].filter((f) => /^model-0000\d-of-00002\.safetensors$/.test(f))).toHaveLength(2);
    const q = ck.weights.get('model.layers.0.self_attn.q_proj.weight')!;
    expect(q.data.filter((v) => v === 0).length).toBeGreaterThanOrEqual(q.data.length / 2);
  });
});
