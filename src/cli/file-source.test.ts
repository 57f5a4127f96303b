import { mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openFileSource, type FileSource } from './file-source';
import { writeSafetensors, type TensorEntry } from '../engine/io/safetensors';
import { INDEX_FILE, shardName, writeShardIndex } from '../engine/io/shard-index';
import { gatherWeightFiles, loadCheckpoint } from '../engine/model/checkpoint';
import { parseConfig } from '../engine/model/config';
import { gatherWeightSources, openCheckpoint } from '../engine/model/lazy-checkpoint';
import { randomHostWeights, TINY_LLAMA_CONFIG } from '../engine/model/tiny-models';
import { byteLevelTokenizerJson } from '../engine/model/tokenizer';

const dir = mkdtempSync(join(tmpdir(), 'file-source-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('file sources', () => {
  it('read ranges of a file, refuse ranges past its end, and notice it shrink', async () => {
    const path = join(dir, 'bytes.bin');
    writeFileSync(
      path,
      Uint8Array.from({ length: 1000 }, (_, i) => i % 251),
    );
    const source = await openFileSource(path);
    try {
      expect(source.size).toBe(1000);
      expect([...(await source.read(500, 4))]).toEqual([249, 250, 0, 1]);
      expect((await source.read(1000, 0)).length).toBe(0);
      await expect(source.read(999, 2)).rejects.toThrow('cannot read bytes [999, 1001) of a 1000-byte file');
      truncateSync(path, 600);
      await expect(source.read(550, 100)).rejects.toThrow(/ended at byte 600, before the 1000 it had when opened/);
    } finally {
      await source.close();
    }
    await expect(source.read(0, 1)).rejects.toThrow();
  });

  it('open a sharded BF16 checkpoint lazily, bit for bit as loadCheckpoint reads it', async () => {
    const raw = { ...TINY_LLAMA_CONFIG, vocab_size: 256 };
    const host = randomHostWeights(parseConfig(raw), 9);
    const names = [...host.keys()].sort();
    const files = new Map<string, Uint8Array>();
    const weightMap = new Map<string, string>();
    for (let s = 0; s < 2; s++) {
      const part = names.slice((s * names.length) >> 1, ((s + 1) * names.length) >> 1);
      const entries: Record<string, TensorEntry> = {};
      for (const n of part) {
        entries[n] = { dtype: 'BF16', ...host.get(n)! };
        weightMap.set(n, shardName(s + 1, 2));
      }
      files.set(shardName(s + 1, 2), writeSafetensors(entries, { format: 'pt' }));
    }
    files.set(INDEX_FILE, writeShardIndex(weightMap, 0));
    for (const [name, bytes] of files) writeFileSync(join(dir, name), bytes);

    const tokenizer = byteLevelTokenizerJson();
    const whole = loadCheckpoint({ config: raw, ...gatherWeightFiles((n) => files.get(n))!, tokenizer });
    const opened: FileSource[] = [];
    try {
      const gathered = await gatherWeightSources(async (name) => {
        if (!files.has(name)) return undefined;
        const source = await openFileSource(join(dir, name));
        opened.push(source);
        return source;
      });
      const ck = await openCheckpoint({ config: raw, ...gathered!, tokenizer });
      expect(ck.storage).toEqual(whole.storage);
      for (const [name, t] of await ck.tensors(ck.shapes.keys())) {
        const want = whole.weights.get(name)!.data;
        expect(new Uint32Array(t.data.buffer, t.data.byteOffset, t.data.length), name).toEqual(
          new Uint32Array(want.buffer, want.byteOffset, want.length),
        );
      }
      expect(ck.warnings).toEqual(whole.warnings);
    } finally {
      for (const s of opened) await s.close();
    }
  });
});
