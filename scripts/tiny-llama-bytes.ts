// A small byte-level Llama checkpoint with random weights, for checking what the workbench exports
// of the Llama family against transformers and peft (scripts/check-peft.py): grouped-query
// attention (4 query heads over 2 key/value heads), llama3 rope scaling, an untied head, a
// byte-level tokenizer (token id = byte value, no BOS), and the KJV text as its eval and training
// data, so that `export --recover lora --recover-data train` runs on it as on gpt-bytes.
//   npx tsx scripts/tiny-llama-bytes.ts OUT_DIR
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeSafetensors } from '../src/engine/io/safetensors';
import { parseConfig } from '../src/engine/model/config';
import { randomHostWeights, TINY_LLAMA_CONFIG } from '../src/engine/model/tiny-models';
import { byteLevelTokenizerJson } from '../src/engine/model/tokenizer';
import { loadKjv } from './data/kjv';

const out = process.argv[2];
if (!out) throw new Error('usage: npx tsx scripts/tiny-llama-bytes.ts OUT_DIR');
mkdirSync(out, { recursive: true });
const config = {
  ...TINY_LLAMA_CONFIG,
  vocab_size: 256,
  hidden_size: 64,
  intermediate_size: 160,
  head_dim: 16,
  max_position_embeddings: 64,
  torch_dtype: 'float32',
  rope_scaling: { ...TINY_LLAMA_CONFIG.rope_scaling, original_max_position_embeddings: 16 },
};
const weights = randomHostWeights(parseConfig(config), 7, 0.2);
const tensors = new Map(
  [...weights].map(([name, t]) => [name, { dtype: 'F32' as const, shape: t.shape, data: t.data }]),
);
writeFileSync(join(out, 'model.safetensors'), writeSafetensors(tensors, { format: 'pt' }));
writeFileSync(join(out, 'config.json'), JSON.stringify(config, null, 2));
writeFileSync(join(out, 'tokenizer.json'), JSON.stringify(byteLevelTokenizerJson()));
const { train, heldOut } = loadKjv();
const bytes = (b: Uint8Array) => writeSafetensors({ bytes: { dtype: 'U8', shape: [b.length], data: b } });
writeFileSync(join(out, 'eval.safetensors'), bytes(heldOut.slice(0, 4097)));
writeFileSync(join(out, 'calib.safetensors'), bytes(train.slice(0, 8192)));
console.log(`written ${out}`);
