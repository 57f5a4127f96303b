// The pruned model's linear layers on our kernels wherever measuring on this device says they beat
// TF.js's dense product, layer by layer and batch size by batch size. The forward pass asks
// matmul() for each linear; an answer of null means "use tf.matMul on the masked matrix".
//
// The rule is measured, not guessed: the first time a layer is called with n tokens it runs dense
// and is noted; between evaluation batches settle() times every candidate format for the noted
// (layer, n) on this device — TF.js's dense matMul on the masked matrix, our CSR kernel, our 2:4
// kernel when the mask is 2:4, our dense matrix-vector kernel for n = 1 — and keeps the fastest.
// Timings are cached per device by shape, n and density (5% steps), so a slider's next step
// measures only what it has not seen, and a layer whose candidates were all timed before is
// decided at its first call.
//
// Tensors and kernels share buffers (tfjs-device.ts): the kernel reads the input tensor's buffer
// and writes a fresh TF.js tensor's buffer.
import * as tf from '@tensorflow/tfjs';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import type { LinearOverride } from '../model/types';
import type { LinearFormat, LinearKernel } from './linear-kernel';
import { kernelsOf, type GpuKernels } from './kernels';
import { flushTfjs, outputTensor, tensorBuffer, tfjsGpuIdle, tfjsWebGpu } from './tfjs-device';
import { timeGpu } from './timing';
import { throwingGpuErrors } from './error-scopes';
import { csrKernel } from './csr-kernel';
import { toCsr } from './csr';
import { nm24Kernel } from './nm24-kernel';
import { toNm24, type Nm24Matrix } from './nm24';
import { denseMatvecKernel } from './dense-kernel';

/** A candidate way to compute a layer's product: TF.js's dense matMul, or one of our formats. */
export type LinearPath = 'tfjs' | LinearFormat;

/** A pruned linear layer as the planner needs it. */
export interface SparseLayer {
  /** The checkpoint name of its weight (what the forward pass asks by). */
  weight: string;
  out: number;
  in: number;
  /** Kept weights / all weights. */
  density: number;
  /** The masked matrix as the forward pass stores it, and whether it is [out, in] (tf.matMul transposes it). */
  dense: tf.Tensor;
  transposed: boolean;
  /**
   * The masked values, removed entries zero, and the 0/1 mask, both [out, in] row-major
   * (pruning/layout.ts's rows view). Asked for once, when one of our formats is first built: a
   * layer that only ever runs on TF.js never pays for the view.
   */
  view(): { rows: Float32Array; mask: Uint8Array };
}

/** What was chosen for one layer at one n, with the timings it was chosen by. */
export interface LinearChoice {
  weight: string;
  n: number;
  /** Kept weights / all weights. */
  density: number;
  path: LinearPath;
  /** Median ms per product of every candidate measured (the cached figure when one was). */
  ms: Partial<Record<LinearPath, number>>;
  /** Our formats that failed their check on this device (an error, or a product unlike TF.js's), and why. */
  rejected: Partial<Record<LinearPath, string>>;
}

/** Enough runs to rank candidates; few, since a slider step on a slow device waits for them. */
const TIMING = { perBatch: 3, batches: 3 };

/** Per device, by candidate key: ms per product, or why the candidate was rejected there. */
const costsByDevice = new WeakMap<GPUDevice, Map<string, number | { rejected: string }>>();

/** Our formats are only tried where they can win: CSR stores 8 bytes per kept weight against 4 per dense one. */
const CSR_MAX_DENSITY = 0.5;
/** A 2:4 mask keeps at most half. */
const NM24_MAX_DENSITY = 0.5;

class Layer {
  /** Built on first need; null where the format does not apply (a mask that is not 2:4). */
  private readonly built = new Map<LinearFormat, LinearKernel | null>();
  private rowsView: { rows: Float32Array; mask: Uint8Array } | null = null;
  /** The 2:4 compression, or null when some group of 4 keeps more than 2 (undefined: not tried yet). */
  private nm24: Nm24Matrix | null | undefined;

  constructor(
    readonly spec: SparseLayer,
    private readonly kernels: GpuKernels,
  ) {}

  private view(): { rows: Float32Array; mask: Uint8Array } {
    this.rowsView ??= this.spec.view();
    return this.rowsView;
  }

  private compressed24(): Nm24Matrix | null {
    if (this.nm24 === undefined) {
      const { rows, mask } = this.view();
      try {
        this.nm24 = toNm24(rows, mask, this.spec.out, this.spec.in);
      } catch {
        this.nm24 = null; // more than 2 kept in some group of 4: not 2:4
      }
    }
    return this.nm24;
  }

  kernel(format: LinearFormat): LinearKernel | null {
    if (!this.built.has(format)) this.built.set(format, this.build(format));
    return this.built.get(format)!;
  }

  private build(format: LinearFormat): LinearKernel | null {
    const { out, in: cols } = this.spec;
    if (format === 'nm24') {
      const m = this.compressed24();
      return m && nm24Kernel(this.kernels, m);
    }
    const { rows, mask } = this.view();
    return format === 'csr'
      ? csrKernel(this.kernels, toCsr(rows, mask, out, cols))
      : denseMatvecKernel(this.kernels, rows, out, cols);
  }

  /** The formats among `allowed` worth timing at n tokens (nothing is uploaded to find out). */
  candidates(n: number, allowed: readonly LinearPath[]): LinearFormat[] {
    const { density } = this.spec;
    const out: LinearFormat[] = [];
    if (allowed.includes('csr') && density <= CSR_MAX_DENSITY) out.push('csr');
    if (allowed.includes('nm24') && density <= NM24_MAX_DENSITY && this.compressed24()) out.push('nm24');
    if (allowed.includes('dense') && n === 1) out.push('dense');
    return out;
  }

  destroy(): void {
    for (const k of this.built.values()) k?.destroy();
    this.built.clear();
  }
}

export class SparseLinears implements LinearOverride {
  private readonly layers: Map<string, Layer>;
  private readonly choices = new Map<string, LinearChoice>();
  /** (weight, n) called before being measured. */
  private readonly pending = new Map<string, { weight: string; n: number }>();
  private readonly costs: Map<string, number | { rejected: string }>;
  private readonly kernels: GpuKernels;

  /**
   * `paths` limits the candidates (benchmarks compare "TF.js only" with "measured"; tests force
   * one format); a layer none of whose allowed formats fits runs on TF.js.
   */
  constructor(
    private readonly backend: WebGPUBackend,
    layers: SparseLayer[],
    private readonly paths: readonly LinearPath[] = ['tfjs', 'dense', 'csr', 'nm24'],
  ) {
    this.kernels = kernelsOf(backend.device);
    let costs = costsByDevice.get(backend.device);
    if (!costs) {
      costs = new Map();
      costsByDevice.set(backend.device, costs);
    }
    this.costs = costs;
    this.layers = new Map(layers.map((l) => [l.weight, new Layer(l, this.kernels)]));
  }

  /** A planner on TF.js's current WebGPU device, or null on any other backend. */
  static forCurrentBackend(layers: SparseLayer[], paths?: readonly LinearPath[]): SparseLinears | null {
    const gpu = tfjsWebGpu();
    return gpu ? new SparseLinears(gpu.backend, layers, paths) : null;
  }

  matmul(weight: string, x: tf.Tensor2D): tf.Tensor2D | null {
    const layer = this.layers.get(weight);
    if (!layer) return null;
    const n = x.shape[0];
    const id = `${weight}|${n}`;
    let choice = this.choices.get(id);
    if (!choice) {
      // Every candidate timed before (this shape, n and density, on this device): choose now.
      const candidates = this.candidates(layer, n);
      if (!candidates.every((c) => this.costs.has(c.key))) {
        this.pending.set(id, { weight, n });
        return null;
      }
      choice = this.record(layer, n, candidates);
    }
    return choice.path === 'tfjs' ? null : this.run(layer.kernel(choice.path)!, x);
  }

  /** The paths worth timing for (layer, n), with the keys their timings are cached under. */
  private candidates(layer: Layer, n: number): { path: LinearPath; key: string }[] {
    const { spec } = layer;
    const shape = `${spec.out}×${spec.in}|${n}`;
    const formats = layer.candidates(n, this.paths);
    const out: { path: LinearPath; key: string }[] = [];
    if (this.paths.includes('tfjs') || formats.length === 0)
      out.push({ path: 'tfjs', key: `tfjs|${shape}|${spec.transposed}` });
    // Sparse costs follow the kept share; 5% steps keep a slider from re-timing every step.
    for (const f of formats)
      out.push({ path: f, key: `${f}|${shape}|${f === 'dense' ? '' : Math.round(spec.density * 20)}` });
    return out;
  }

  /** Chooses the fastest of the timed candidates that passed their check (TF.js's when none did). */
  private record(layer: Layer, n: number, candidates: { path: LinearPath; key: string }[]): LinearChoice {
    const ms: Partial<Record<LinearPath, number>> = {};
    const rejected: Partial<Record<LinearPath, string>> = {};
    for (const c of candidates) {
      const cost = this.costs.get(c.key)!;
      if (typeof cost === 'number') ms[c.path] = cost;
      else rejected[c.path] = cost.rejected;
    }
    const timed = Object.entries(ms) as [LinearPath, number][];
    const path = timed.length ? timed.reduce((a, b) => (b[1] < a[1] ? b : a))[0] : 'tfjs';
    const choice: LinearChoice = { weight: layer.spec.weight, n, density: layer.spec.density, path, ms, rejected };
    this.choices.set(`${layer.spec.weight}|${n}`, choice);
    return choice;
  }

  /** Our kernel's product: Xᵀ made by TF.js (a copy of n·in values), then one dispatch into a new tensor. */
  private run(kernel: LinearKernel, x: tf.Tensor2D): tf.Tensor2D {
    const n = x.shape[0];
    const xT = n === 1 ? x : tf.transpose(x);
    const y = outputTensor<tf.Rank.R2>(this.backend, [n, kernel.rows]);
    const input = tensorBuffer(this.backend, xT);
    flushTfjs(this.backend);
    const encoder = this.kernels.device.createCommandEncoder({ label: `linear ${kernel.format}` });
    const pass = encoder.beginComputePass();
    kernel.encode(pass, input, y.buffer, n);
    pass.end();
    this.kernels.device.queue.submit([encoder.finish()]);
    if (xT !== x) xT.dispose(); // its buffer goes back to TF.js's pool; any reuse is recorded after our submit
    return y.tensor;
  }

  /**
   * Null when our format's product on x matches TF.js's (within f32 rounding of Σ|w·x|) and raised
   * no WebGPU error; else why not. A kernel a GPU or driver gets wrong is then never used there:
   * the parity suites prove the kernels on the GPUs we test, not on every user's.
   */
  private async check(layer: Layer, path: LinearFormat, x: tf.Tensor2D): Promise<string | null> {
    const { spec } = layer;
    let got: Float32Array;
    try {
      got = await throwingGpuErrors(this.kernels.device, async () => {
        const y = this.run(layer.kernel(path)!, x);
        try {
          return (await y.data()) as Float32Array;
        } finally {
          y.dispose();
        }
      });
    } catch (e) {
      return e instanceof Error ? e.message : String(e);
    }
    const [want, scale] = tf.tidy(() => [
      tf.matMul(x, spec.dense, false, spec.transposed),
      tf.matMul(tf.abs(x), tf.abs(spec.dense), false, spec.transposed),
    ]);
    const [w, sc] = await Promise.all([want.data(), scale.data()]);
    tf.dispose([want, scale]);
    for (let i = 0; i < w.length; i++) {
      // Where TF.js's product is not finite (a pruned ∞ or NaN times 0), ours may rightly differ.
      if (Number.isFinite(w[i]) && !(Math.abs(got[i] - w[i]) <= 1e-4 * sc[i] + 1e-6))
        return `its product differs from TF.js's (output ${i}: ${got[i]} vs ${w[i]})`;
    }
    return null;
  }

  async settle(signal?: AbortSignal): Promise<void> {
    const todo = [...this.pending.values()];
    this.pending.clear();
    for (const { weight, n } of todo) {
      signal?.throwIfAborted();
      const layer = this.layers.get(weight)!;
      const { spec } = layer;
      const candidates = this.candidates(layer, n);
      const x = tf.randomNormal([n, spec.in]) as tf.Tensor2D;
      try {
        for (const { path, key } of candidates) {
          if (this.costs.has(key)) continue;
          signal?.throwIfAborted();
          const problem = path === 'tfjs' ? null : await this.check(layer, path, x);
          if (problem) {
            console.warn(
              `sparse kernels: ${path} for ${spec.out}×${spec.in} at n = ${n} is not used on this device: ${problem}`,
            );
            this.costs.set(key, { rejected: problem });
            continue;
          }
          const op =
            path === 'tfjs'
              ? () => tf.dispose(tf.matMul(x, spec.dense, false, spec.transposed))
              : () => this.run(layer.kernel(path)!, x).dispose();
          this.costs.set(key, await timeGpu(op, () => tfjsGpuIdle(this.backend), TIMING));
        }
      } finally {
        x.dispose();
      }
      this.record(layer, n, candidates);
    }
  }

  /** Every choice made so far, by layer then n. */
  report(): LinearChoice[] {
    return [...this.choices.values()];
  }

  /** Frees our formats' GPU buffers (the dense tensors are the caller's). */
  destroy(): void {
    for (const l of this.layers.values()) l.destroy();
  }
}
