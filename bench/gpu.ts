// Our WebGPU kernels (src/shaders, src/engine/gpu) against TensorFlow.js WebGPU on the same device
// (tf.topk for the selections, tf.matMul on the masked dense matrix for the products) and the
// plain-TS reference twins, side by side in one run, with a parity check of every result against
// the reference. Prints Markdown tables and writes JSON. GPU times are per op, ops submitted back to
// back (engine/gpu/timing.ts).
//   npm run bench:gpu                          (SwiftShader here: correctness only, never speed)
//   SCALE=256 npm run bench:gpu                (sizes divided by 256: a quick proof that it runs)
//   PARTS=matmul,forward MODELS=gpt-bytes ...  (some tables only; forward: which default models)
// On a GPU machine without the npm registry: bundle this file for Node (esbuild, ESM, 'webgpu'
// external beside its Dawn binary) and run the bundle there; the JSON goes to $OUT when it is set.
import * as tf from '@tensorflow/tfjs';
import { mkdirSync, writeFileSync } from 'node:fs';
import { useBackend } from './lib/backends';
import { useSwiftShaderUnlessDriverNamed } from '../src/engine/gpu/node-device';
import { tfjsGpuIdle, tfjsWebGpu } from '../src/engine/gpu/tfjs-device';
import { kernelsOf, type GpuTensor } from '../src/engine/gpu/kernels';
import { timeGpu } from '../src/engine/gpu/timing';
import { markdownTable, type BenchRow } from './lib/gpu-rows';
import { matmulRows } from './lib/gpu-matmul';
import { forwardRows } from './lib/gpu-forward';
import { GlobalTopK } from '../src/engine/gpu/global-topk';
import { rowTopK } from '../src/engine/gpu/row-topk';
import { nmMask } from '../src/engine/gpu/nm-mask';
import { tokenTopK } from '../src/engine/gpu/token-topk';
import { maskWords, unpackBits } from '../src/engine/gpu/bitmask';
import { globalTopK, rowTopKMask } from '../src/engine/pruning/select';
import { nmMask as nmMaskReference } from '../src/engine/pruning/nm';
import { selectTokens } from '../src/engine/model/tokens';
import { randomArray } from '../src/engine/model/tiny-models';
import { median } from './lib/median';

const SCALE = Number(process.env.SCALE ?? 1);
const REFERENCE_RUNS = Number(process.env.REFERENCE_RUNS ?? 1);
/** HBM bandwidth for the dense matrix-vector's share of it: H100 SXM 3350 GB/s, H200 4800 GB/s. */
const PEAK_GBS = process.env.PEAK_GBS ? Number(process.env.PEAK_GBS) : null;
/** The default models whose pruned evaluation the forward table times. */
const MODELS = (process.env.MODELS ?? 'vit-fashion,gpt-bytes').split(',');
/** Which tables: selection, matmul, forward (the pruned default models' evaluation). */
const PARTS = (process.env.PARTS ?? 'selection,matmul,forward').split(',');

function timeCpu<T>(op: () => T): { ms: number; result: T } {
  let result!: T;
  const ms: number[] = [];
  for (let r = 0; r < REFERENCE_RUNS; r++) {
    const t0 = performance.now();
    result = op();
    ms.push(performance.now() - t0);
  }
  return { ms: median(ms), result };
}

const sameMask = (a: ArrayLike<number>, b: ArrayLike<number>) =>
  a.length === b.length && Array.from(a).every((v, i) => v === b[i]);

async function main() {
  useSwiftShaderUnlessDriverNamed();
  const description = await useBackend('webgpu');
  const gpu = tfjsWebGpu();
  if (!description || !gpu)
    throw new Error('bench:gpu needs WebGPU (Dawn with a Vulkan driver; scripts/with-vulkan.sh)');
  const { backend, device } = gpu;
  const kernels = kernelsOf(device);
  const idle = () => tfjsGpuIdle(backend);
  const rows: BenchRow[] = [];
  const scaled = (n: number) => Math.max(1, Math.round(n / SCALE));
  console.error(`device: ${description}; sizes ÷ ${SCALE}`);

  /** Times tf.topk on a [rows, cols] tensor (k along the last dimension). */
  async function tfTopK(data: Float32Array, shape: [number, number] | [number], k: number): Promise<number> {
    const x = tf.tensor(data, shape);
    const ms = await timeGpu(() => tf.dispose(tf.topk(x, k)), idle);
    x.dispose();
    return ms;
  }

  async function readMask(buffer: GPUBuffer, n: number): Promise<Uint8Array> {
    const m = unpackBits(await kernels.readWords(buffer, maskWords(n)), n);
    buffer.destroy();
    return m;
  }

  if (PARTS.includes('selection')) await selectionRows();
  const selectionCount = rows.length;
  if (PARTS.includes('matmul'))
    rows.push(...(await matmulRows({ kernels, backend, scale: SCALE, timeCpu, peakGBs: PEAK_GBS })));
  const matmulCount = rows.length;
  if (PARTS.includes('forward')) rows.push(...(await forwardRows(MODELS)));

  async function selectionRows() {
    // Global threshold over one tensor (the issue's 16M values), keep half and keep 100.
    const n = scaled(16 * 2 ** 20);
    const weights = randomArray(n, 1, 0.05);
    for (const keep of [Math.round(n / 2), Math.min(100, n)]) {
      const input: GpuTensor = kernels.upload(weights);
      const sel = new GlobalTopK(kernels, [input], { magnitude: true });
      const oursMs = await timeGpu(() => sel.run(keep), idle);
      const [mask] = await sel.readMasks();
      const ref = timeCpu(() => globalTopK([weights.map(Math.abs)], keep)[0]);
      const tfjsMs = await tfTopK(weights.map(Math.abs), [n], keep);
      rows.push({
        op: `global top-k |w|, keep ${keep === Math.round(n / 2) ? 'n/2' : keep}`,
        shape: `${n}`,
        oursMs,
        tfjsMs,
        referenceMs: ref.ms,
        parity: sameMask(mask, ref.result),
      });
      sel.destroy();
      input.buffer.destroy();
    }

    // The same 16M values as 64 tensors under one threshold (a model's layers): ours only, tf.topk
    // would need them concatenated.
    {
      const parts = Array.from({ length: 64 }, (_, i) =>
        weights.subarray(Math.floor((i * n) / 64), Math.floor(((i + 1) * n) / 64)),
      );
      const inputs = parts.map((p) => kernels.upload(p));
      const sel = new GlobalTopK(kernels, inputs, { magnitude: true });
      const keep = Math.round(n / 2);
      const oursMs = await timeGpu(() => sel.run(keep), idle);
      const masks = await sel.readMasks();
      const ref = timeCpu(() =>
        globalTopK(
          parts.map((p) => p.map(Math.abs)),
          keep,
        ),
      );
      rows.push({
        op: 'global top-k |w| over 64 tensors, keep n/2',
        shape: `64 × ${Math.round(n / 64)}`,
        oursMs,
        tfjsMs: NaN,
        referenceMs: ref.ms,
        parity: masks.every((m, i) => sameMask(m, ref.result[i])),
      });
      sel.destroy();
      for (const t of inputs) t.buffer.destroy();
    }

    // Per-row top-k (Wanda) and 2:4 on GPT-2-small's and a 4096² layer's shapes.
    for (const [r0, cols] of [
      [768, 768],
      [768, 3072],
      [3072, 768],
      [4096, 4096],
    ]) {
      const r = scaled(r0);
      const scores = randomArray(r * cols, r0 + cols);
      const input = kernels.upload(scores);
      const shape = { rows: r, cols };
      const keep = cols / 2;
      let out: GPUBuffer | null = null;
      const oursMs = await timeGpu(() => {
        out?.destroy();
        out = rowTopK(kernels, input, shape, keep);
      }, idle);
      const ref = timeCpu(() => rowTopKMask(scores, r, cols, keep));
      rows.push({
        op: 'row top-k, keep cols/2',
        shape: `${r}×${cols}`,
        oursMs,
        tfjsMs: await tfTopK(scores, [r, cols], keep),
        referenceMs: ref.ms,
        parity: sameMask(await readMask(out!, scores.length), ref.result),
      });
      out = null;
      const nmMs = await timeGpu(() => {
        out?.destroy();
        out = nmMask(kernels, input, shape, 2, 4);
      }, idle);
      const nmRef = timeCpu(() => nmMaskReference(scores, r, cols, 2, 4));
      rows.push({
        op: '2:4 mask',
        shape: `${r}×${cols}`,
        oursMs: nmMs,
        tfjsMs: await tfTopK(scores, [(r * cols) / 4, 4], 2),
        referenceMs: nmRef.ms,
        parity: sameMask(await readMask(out!, scores.length), nmRef.result),
      });
      input.buffer.destroy();
    }

    // Per-query token top-k: ViT-B/16's 197 tokens and 1024-token windows, many rows, small keep.
    for (const [r0, cols, keep] of [
      [4096, 197, 20],
      [1024, 1024, 64],
    ]) {
      const r = scaled(r0);
      const scores = randomArray(r * cols, cols);
      const input = kernels.upload(scores);
      let out: GPUBuffer | null = null;
      const oursMs = await timeGpu(() => {
        out?.destroy();
        out = tokenTopK(kernels, input, { rows: r, cols }, keep, 0);
      }, idle);
      const got = await kernels.readWords(out!, r * keep);
      const ref = timeCpu(() =>
        Array.from({ length: r }, (_, i) => selectTokens(scores.subarray(i * cols, (i + 1) * cols), keep, 0)),
      );
      const parity = ref.result.every((idx, i) => sameMask(got.subarray(i * keep, (i + 1) * keep), idx));
      rows.push({
        op: `token top-k, keep ${keep}`,
        shape: `${r}×${cols}`,
        oursMs,
        tfjsMs: await tfTopK(scores, [r, cols], keep),
        referenceMs: ref.ms,
        parity,
      });
      (out as GPUBuffer | null)?.destroy();
      input.buffer.destroy();
    }
  }

  if (selectionCount) console.log(markdownTable(rows.slice(0, selectionCount), 'tf.topk'));
  if (matmulCount > selectionCount)
    console.log(`\n${markdownTable(rows.slice(selectionCount, matmulCount), 'tf.matMul')}`);
  if (rows.length > matmulCount) console.log(`\n${markdownTable(rows.slice(matmulCount), 'TF.js-only')}`);
  const date = new Date().toISOString();
  const result = { date, device: description, scale: SCALE, peakGBs: PEAK_GBS, rows };
  const dir = process.env.OUT ?? 'bench/results';
  mkdirSync(dir, { recursive: true });
  const slug = description
    .replace(/[^A-Za-z0-9]+/g, '-')
    .replace(/^-|-$/g, '')
    .slice(0, 40);
  const file = `${dir}/gpu-${date.slice(0, 10)}-${slug}${SCALE === 1 ? '' : `-scale${SCALE}`}.json`;
  writeFileSync(file, JSON.stringify(result, null, 2));
  console.error(`wrote ${file}`);
  if (rows.some((x) => !x.parity)) process.exitCode = 1;
}

// Dawn keeps Node alive while its instance is reachable: exit when done.
main().then(
  () => process.exit(process.exitCode ?? 0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
