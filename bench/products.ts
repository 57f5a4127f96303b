// Dense products on one thread, side by side in one process: the engine's blocked SIMD kernel
// (assembly/simd.ts gemm(), what a linear layer runs on the WASM backend's single thread) against
// XNNPACK's, which TensorFlow.js's stock WASM backend runs for a plain product. The calls
// alternate, each timed alone; prints the median of each and its rate in GFLOP/s, and checks that
// the two agree.
//
//   npm run -s bench:products
//   SHAPES=640x768x3072,640x768x50257 TRANSPOSED=1 npm run -s bench:products
// SHAPES: m×k×n products (default: the layers of vit-fashion, gpt-bytes and GPT-2 small).
// TRANSPOSED=1: b stored [n, k] (a linear layer's [out, in] weight); XNNPACK then needs it
// transposed first (the stock kernel's transposed product is a scalar loop), which is counted, as
// a layer paid it.
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { instantiateSimd } from '../src/engine/backends/wasm-simd';
import { median } from './lib/median';

const SHAPES = (process.env.SHAPES ?? '2040x64x64,2040x64x256,2040x256x64,2048x128x384,2048x512x128,640x768x3072')
  .split(',')
  .map((s) => s.split('x').map(Number) as [number, number, number]);
const TRANSPOSED = process.env.TRANSPOSED === '1';
/** gemm()'s scratch: GEMM_BLOCK floats in assembly/simd.ts. */
const PACK_FLOATS = 131072;

async function main() {
  // The stock backend, without the engine's kernels: its BatchMatMul is XNNPACK's product.
  if (!(await tf.setBackend('wasm'))) throw new Error('no WASM backend');
  await tf.ready();
  console.log(`one thread; ${TRANSPOSED ? 'b stored [n, k]' : 'b stored [k, n]'}; medians of alternating calls`);
  console.log('| m×k×n | engine (gemm) | XNNPACK | engine / XNNPACK | largest difference |');
  console.log('|---|---:|---:|---:|---:|');
  for (const [m, k, n] of SHAPES) {
    const a = Float32Array.from({ length: m * k }, () => Math.random() - 0.5);
    const b = Float32Array.from({ length: k * n }, () => Math.random() - 0.5);
    const floats = m * k + k * n + m * n + PACK_FLOATS;
    const memory = new WebAssembly.Memory({ initial: Math.ceil((4 * floats) / 65536) + 1 });
    const simd = instantiateSimd(memory);
    const heap = new Float32Array(memory.buffer);
    heap.set(a, 0);
    heap.set(b, m * k);
    const [aAt, bAt, cAt, packAt] = [0, m * k, m * k + k * n, m * k + k * n + m * n].map((x) => 4 * x);
    const ta = tf.tensor2d(a, [m, k]);
    const tb = tf.tensor2d(b, TRANSPOSED ? [n, k] : [k, n]);
    const engine = () => simd.gemm(aAt, bAt, cAt, 0, packAt, m, k, n, +TRANSPOSED, 0);
    // The WASM backend computes as the op is called: the product is done when matMul returns.
    const xnnpack = () => tf.tidy(() => tf.matMul(ta, TRANSPOSED ? tf.transpose(tb) : tb));
    engine();
    const product = xnnpack();
    const reference = product.dataSync();
    product.dispose();
    const ours = heap.subarray(cAt / 4, cAt / 4 + m * n);
    let worst = 0;
    for (let i = 0; i < m * n; i++) worst = Math.max(worst, Math.abs(ours[i]! - reference[i]!));
    const flops = 2 * m * k * n;
    const rounds = Math.max(5, Math.min(41, Math.ceil(3e10 / flops)));
    const times = { engine: [] as number[], xnnpack: [] as number[] };
    for (let r = 0; r < rounds; r++) {
      let t0 = performance.now();
      engine();
      times.engine.push(performance.now() - t0);
      t0 = performance.now();
      const y = xnnpack();
      times.xnnpack.push(performance.now() - t0);
      y.dispose();
    }
    const [ms, xms] = [median(times.engine), median(times.xnnpack)];
    const rate = (t: number) => `${t.toFixed(2)} ms, ${(flops / t / 1e6).toFixed(1)} GFLOP/s`;
    console.log(
      `| ${m}×${k}×${n} | ${rate(ms)} | ${rate(xms)} | ${(ms / xms).toFixed(2)} | ${worst.toExponential(1)} |`,
    );
    tf.dispose([ta, tb]);
  }
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
