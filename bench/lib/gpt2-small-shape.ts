// A checkpoint in GPT-2 small's exact shape and layout, as openai-community/gpt2 stores it: 124 M
// parameters in F32 under prefix-less names with the causal-mask buffers h.N.attn.bias
// [1, 1, 1024, 1024], keys in sorted order, 548 MB; its config.json; and a byte-level BPE
// tokenizer.json with GPT-2's 50,257 tokens and 50,000 merges (made up, not GPT-2's: the hub is out
// of reach, and what loading costs depends on the sizes). Weights are seeded random values, so the
// model is for measuring loads, not for reading its predictions.
import { closeSync, existsSync, mkdirSync, openSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { parseConfig } from '../../src/engine/model/config';
import { GPT2_PREFIX, paramSpecs } from '../../src/engine/model/schema';
import { randomArray } from '../../src/engine/model/tiny-models';
import { byteLevelTokenizerJson } from '../../src/engine/model/tokenizer';

export const GPT2_SMALL_CONFIG = {
  activation_function: 'gelu_new',
  architectures: ['GPT2LMHeadModel'],
  attn_pdrop: 0.1,
  bos_token_id: 50256,
  embd_pdrop: 0.1,
  eos_token_id: 50256,
  initializer_range: 0.02,
  layer_norm_epsilon: 1e-5,
  model_type: 'gpt2',
  n_ctx: 1024,
  n_embd: 768,
  n_head: 12,
  n_layer: 12,
  n_positions: 1024,
  resid_pdrop: 0.1,
  summary_activation: null,
  summary_first_dropout: 0.1,
  summary_proj_to_labels: true,
  summary_type: 'cls_index',
  summary_use_proj: true,
  task_specific_params: { 'text-generation': { do_sample: true, max_length: 50 } },
  vocab_size: 50257,
};

/** Byte-level BPE with GPT-2's vocabulary size: 256 bytes, 50,000 merges, <|endoftext|>. */
function tokenizerJson(): object {
  const json = byteLevelTokenizerJson() as { model: { vocab: Record<string, number>; merges: string[][] } } & Record<
    string,
    unknown
  >;
  const tokens = Object.keys(json.model.vocab);
  const r = randomArray(200_000, 17);
  let k = 0;
  while (json.model.merges.length < 50_000) {
    // Early merges join bytes, later ones join earlier merges, as a trained BPE's do.
    const pick = () =>
      tokens[
        Math.floor(((r[k++ % r.length] + 1) / 2) * Math.min(tokens.length, 256 + json.model.merges.length / 4 + 64))
      ];
    const a = pick();
    const b = pick();
    const t = a + b;
    if (json.model.vocab[t] !== undefined || t.length > 16) continue;
    json.model.vocab[t] = tokens.length;
    tokens.push(t);
    json.model.merges.push([a, b]);
  }
  json.added_tokens = [
    {
      id: 50256,
      content: '<|endoftext|>',
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: true,
      special: true,
    },
  ];
  return json;
}

/** Writes the checkpoint into `dir` unless it is there; returns the weights' file size. */
export function writeGpt2SmallShape(dir: string): number {
  const weightsPath = join(dir, 'model.safetensors');
  if (existsSync(weightsPath)) return statSync(weightsPath).size;
  mkdirSync(dir, { recursive: true });
  const config = parseConfig(GPT2_SMALL_CONFIG);
  const tensors = paramSpecs(config).map((p) => ({
    name: p.name.startsWith(GPT2_PREFIX) ? p.name.slice(GPT2_PREFIX.length) : p.name,
    shape: p.shape,
    buffer: false,
  }));
  for (let l = 0; l < 12; l++) tensors.push({ name: `h.${l}.attn.bias`, shape: [1, 1, 1024, 1024], buffer: true });
  tensors.sort((a, b) => (a.name < b.name ? -1 : 1));
  const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
  let offset = 0;
  for (const t of tensors) {
    const bytes = 4 * t.shape.reduce((a, b) => a * b, 1);
    header[t.name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let text = JSON.stringify(header);
  text += ' '.repeat((8 - ((8 + text.length) % 8)) % 8); // data 8-byte aligned, as safetensors writes it
  const fd = openSync(weightsPath, 'w');
  try {
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(text.length));
    writeSync(fd, len);
    writeSync(fd, Buffer.from(text, 'utf8'));
    tensors.forEach((t, i) => {
      const n = t.shape.reduce((a, b) => a * b, 1);
      const data = t.buffer
        ? Float32Array.from({ length: n }, (_, j) => (j % 1024 <= Math.floor(j / 1024) ? 1 : 0))
        : randomArray(n, 100 + i, 0.02);
      writeSync(fd, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    });
  } finally {
    closeSync(fd);
  }
  writeFileSync(join(dir, 'config.json'), JSON.stringify(GPT2_SMALL_CONFIG, null, 2));
  writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(tokenizerJson()));
  return statSync(weightsPath).size;
}
