// The model directory the torch peer (../shared/peer/torch_prune.py) reads, made from a GPT-2
// checkpoint and text files that the CLI reads as they are. The peer knows one layout only: tensors
// under HF's `transformer.` prefix, the context taken from config.json's n_positions (it has no
// --seq-len), and its data as calib.safetensors / eval.safetensors ("bytes" U8 [n], each byte one
// token, ASCII only), evaluated over every window of eval.safetensors (it has no --eval-count). So
// for a prefix-less checkpoint read at a shorter window than its context, the copy here holds:
//   model.safetensors  every tensor under `transformer.`, wpe cut to its first `context` rows (the
//                      only positions a window of that length reaches: the same numbers), the
//                      causal-mask buffers left out (the peer builds its own);
//   config.json        the checkpoint's, with n_positions and n_ctx = `context`;
//   calib.safetensors  the calibration text;
//   eval.safetensors   the first evalWindows × context + 1 bytes of the evaluation text: exactly
//                      `evalWindows` windows, as the CLI's --eval-count scores.
// The weights' copy (~500 MB for GPT-2 small) is written once; a stamp file says from what.
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { openFileSource } from '../../src/cli/file-source';
import {
  readSafetensorsHeaderFrom,
  safetensorsLayout,
  type TensorEntry,
  writeSafetensors,
} from '../../src/engine/io/safetensors';

const PREFIX = 'transformer.';
const STAMP = 'peer-inputs.json';

export interface PeerInputsSpec {
  /** The checkpoint's directory (config.json, model.safetensors), as the CLI reads it. */
  source: string;
  /** Where the peer's directory goes. */
  dir: string;
  /** Tokens per window: the CLI's --seq-len. */
  context: number;
  calib: Uint8Array;
  eval: Uint8Array;
  /** Evaluation windows: the CLI's --eval-count. */
  evalWindows: number;
}

export interface PeerInputs {
  dir: string;
  /** The weights were (re)written by this call, not found up to date. */
  wroteWeights: boolean;
  weightsBytes: number;
  calibBytes: number;
  evalBytes: number;
}

const isBuffer = (name: string) => /\.attn\.(masked_)?bias$/.test(name);
const peerName = (name: string) => (name.startsWith(PREFIX) || name === 'lm_head.weight' ? name : PREFIX + name);

function checkAscii(bytes: Uint8Array, what: string): void {
  const at = bytes.findIndex((b) => b >= 128);
  if (at >= 0) throw new Error(`${what}: byte ${at} is not ASCII; the peer reads bytes as tokens and refuses it`);
}

const bytesFile = (data: Uint8Array) =>
  writeSafetensors({ bytes: { dtype: 'U8', shape: [data.length], data } satisfies TensorEntry });

export async function writePeerInputs(spec: PeerInputsSpec): Promise<PeerInputs> {
  const evalLength = spec.evalWindows * spec.context + 1;
  if (spec.eval.length < evalLength)
    throw new Error(`evaluation text: ${spec.eval.length} bytes, ${spec.evalWindows} windows need ${evalLength}`);
  const evalBytes = spec.eval.subarray(0, evalLength);
  checkAscii(spec.calib, 'calibration text');
  checkAscii(evalBytes, 'evaluation text');
  mkdirSync(spec.dir, { recursive: true });

  const config = JSON.parse(readFileSync(join(spec.source, 'config.json'), 'utf8'));
  if (config.model_type !== 'gpt2') throw new Error(`the peer runs GPT-2 only, not ${config.model_type}`);
  if (spec.context > config.n_positions)
    throw new Error(`a window of ${spec.context} tokens does not fit the context of ${config.n_positions}`);
  writeFileSync(
    join(spec.dir, 'config.json'),
    JSON.stringify({ ...config, n_positions: spec.context, n_ctx: spec.context }, null, 2),
  );
  writeFileSync(join(spec.dir, 'calib.safetensors'), bytesFile(spec.calib));
  writeFileSync(join(spec.dir, 'eval.safetensors'), bytesFile(evalBytes));

  const weightsIn = join(spec.source, 'model.safetensors');
  const weightsOut = join(spec.dir, 'model.safetensors');
  const st = statSync(weightsIn);
  const stamp = JSON.stringify({ source: weightsIn, size: st.size, mtimeMs: st.mtimeMs, context: spec.context });
  const stampPath = join(spec.dir, STAMP);
  const upToDate = existsSync(weightsOut) && existsSync(stampPath) && readFileSync(stampPath, 'utf8') === stamp;
  if (!upToDate) {
    rmSync(stampPath, { force: true }); // a copy cut short is never taken for a whole one
    await copyWeights(weightsIn, weightsOut, spec.context);
  }
  writeFileSync(stampPath, stamp);
  return {
    dir: spec.dir,
    wroteWeights: !upToDate,
    weightsBytes: statSync(weightsOut).size,
    calibBytes: spec.calib.length,
    evalBytes: evalBytes.length,
  };
}

/** Streams the tensors, renamed, wpe cut to `context` rows, a tensor at a time. */
async function copyWeights(from: string, to: string, context: number): Promise<void> {
  const source = await openFileSource(from);
  const fd = openSync(to, 'w');
  try {
    const header = await readSafetensorsHeaderFrom(source);
    const wanted = header.tensors.filter((t) => !isBuffer(t.name));
    const shapes = new Map<string, Pick<TensorEntry, 'dtype' | 'shape'>>();
    const byName = new Map<string, { begin: number; length: number }>();
    for (const t of wanted) {
      const name = peerName(t.name);
      const cut = name === `${PREFIX}wpe.weight`;
      const shape = cut ? [context, ...t.shape.slice(1)] : t.shape;
      // Rows are contiguous: the first `context` rows are the tensor's first bytes.
      const length = cut ? ((t.end - t.begin) / t.shape[0]) * context : t.end - t.begin;
      shapes.set(name, { dtype: t.dtype, shape });
      byName.set(name, { begin: header.dataStart + t.begin, length });
    }
    const layout = safetensorsLayout(shapes);
    writeSync(fd, layout.header);
    // The layout's ranges come in file order.
    for (const [name, [begin]] of layout.ranges) {
      const src = byName.get(name)!;
      writeSync(fd, await source.read(src.begin, src.length), 0, src.length, begin);
    }
  } finally {
    closeSync(fd);
    await source.close();
  }
}
