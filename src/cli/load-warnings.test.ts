// What the loader reports about a sharded checkpoint reaches the CLI's user: warnings on stderr (and
// in --json output), errors as one line naming the file by its path.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from './test-support';
import { writeSafetensors, type TensorEntry } from '../engine/io/safetensors';
import { INDEX_FILE, shardName, writeShardIndex } from '../engine/io/shard-index';
import { byteLevelTokenizerJson } from '../engine/model/tokenizer';
import { randomHostWeights, tinyGpt2, TINY_GPT2_CONFIG } from '../engine/model/tiny-models';

const tmp = mkdtempSync(join(tmpdir(), 'cli-warnings-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const [S1, S2] = [shardName(1, 2), shardName(2, 2)];

/** A two-shard GPT-2 (BF16) with an eval set; `edit` may change the shards before they are written. */
function shardedDir(name: string, edit: (shards: Record<string, Record<string, TensorEntry>>) => void = () => {}) {
  const dir = join(tmp, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...TINY_GPT2_CONFIG, vocab_size: 256 }));
  writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(byteLevelTokenizerJson()));
  const text = new TextEncoder().encode('Let there be light: and there was light. '.repeat(2));
  writeFileSync(
    join(dir, 'eval.safetensors'),
    writeSafetensors({ bytes: { dtype: 'U8', shape: [text.length], data: text } }),
  );
  const shards: Record<string, Record<string, TensorEntry>> = { [S1]: {}, [S2]: {} };
  const map = new Map<string, string>();
  for (const [n, t] of randomHostWeights({ ...tinyGpt2(), vocabSize: 256 }, 3)) {
    const s = n.includes('.h.0.') ? S1 : S2;
    shards[s][n] = { dtype: 'BF16', shape: t.shape, data: t.data };
    map.set(n, s);
  }
  writeFileSync(join(dir, INDEX_FILE), writeShardIndex(map, 0));
  edit(shards);
  for (const [s, tensors] of Object.entries(shards)) writeFileSync(join(dir, s), writeSafetensors(tensors));
  return dir;
}

const run = runCli;

describe('cli: the loader reports', () => {
  it('prints each warning on stderr and lists them in --json, then runs', async () => {
    const dir = shardedDir('warn', (shards) => {
      const t = shards[S1]['transformer.h.0.ln_1.weight'];
      const data = t.data.slice() as Float32Array;
      data[3] = Number.POSITIVE_INFINITY;
      shards[S1]['transformer.h.0.ln_1.weight'] = { ...t, data };
      shards[S2]['extra.weight'] = { dtype: 'F32', shape: [1], data: new Float32Array(1) };
    });
    const r = await run(['eval', '--model', dir, '--json']);
    expect(r.code).toBe(0);
    const lines = r.stderr.split('\n').filter((l) => l.startsWith('warning: '));
    expect(lines).toEqual([
      `warning: ${S2}: tensor "extra.weight" is not listed in model.safetensors.index.json; it is ignored`,
      expect.stringMatching(/^warning: model\.safetensors\.index\.json: metadata\.total_size is 0 bytes/),
      `warning: ${S1}: tensor "transformer.h.0.ln_1.weight" holds 1 +Inf among its 16 values; what is computed through it may be NaN`,
    ]);
    const out = JSON.parse(r.stdout);
    expect(out.warnings).toEqual(lines.map((l) => l.slice('warning: '.length)));
    expect(out.ignoredTensors).toEqual(['extra.weight']);
  });

  it('refuses a missing shard or a tensor in two shards with one line naming the file', async () => {
    const missing = shardedDir('missing');
    rmSync(join(missing, S2));
    let r = await run(['eval', '--model', missing]);
    expect(r.code).toBe(1);
    expect(r.stderr.split('\n')).toContain(
      `error: ${missing}: model.safetensors.index.json names ${S2}, which is missing`,
    );

    const twice = shardedDir('twice', (shards) => {
      shards[S2]['transformer.h.0.ln_1.weight'] = shards[S1]['transformer.h.0.ln_1.weight'];
    });
    r = await run(['eval', '--model', twice]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /^error: .*twice[\\/]model-00002-of-00002\.safetensors: tensor "transformer\.h\.0\.ln_1\.weight" is also in model-00001-of-00002\.safetensors/m,
    );
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
