// Global top-k over many tensors on the GPU (a model's prunable weights under one threshold): a
// radix select on the order keys of shaders/lib/keys.wgsl — three histogram + pick passes, no
// sort — then one mask pass per tensor. Exactly `keep` entries are kept, the same ones as
// pruning/select.ts's globalTopK (its reference twin): higher first, ties by position in the
// concatenation of the tensors, NaN last, -0 = +0. Everything stays on the GPU between passes;
// only `readThreshold` waits for the CPU.
import type { GpuKernels, GpuTensor } from './kernels';
import { maskWords, unpackBits } from './bitmask';

const WG = 256;
const HISTOGRAM_ITEMS = 64; // elements per invocation in radix-histogram.wgsl
const BLOCK = 8192; // elements per workgroup in tie-count.wgsl and threshold-mask.wgsl
const DIGITS = 3;
const STATE_WORDS = 6; // struct Selection in selection.wgsl
const BINS = 2048;
const NO_KEY = 0xffffffff;

/** What the selection decided, read back from the GPU. */
export interface GlobalThreshold {
  /** The keep-th best order key (0xffffffff when keep is 0). */
  key: number;
  /** The value it stands for (|value| with magnitude); NaN when NaNs had to be kept; Infinity when keep is 0. */
  value: number;
  /** Entries strictly better than the threshold (all kept). */
  above: number;
  /** Entries equal to the threshold, and how many of them are kept (the first by position). */
  ties: number;
  tiesKept: number;
  /** above + tiesKept: always the requested keep. */
  kept: number;
}

/** The f32 value of an order key (the inverse of orderKey in keys.wgsl). */
export function keyValue(key: number): number {
  if (key === NO_KEY) return Infinity;
  if (key === 0) return NaN;
  const bits = key >= 0x80000000 ? key & 0x7fffffff : ~key >>> 0;
  return new Float32Array(new Uint32Array([bits]).buffer)[0];
}

export interface GlobalTopKOptions {
  /** Rank |value| instead of value. */
  magnitude?: boolean;
}

/**
 * A selection prepared for fixed tensors: buffers and bind groups are made once, so moving the
 * keep count (the sparsity slider) costs only the passes. Call `run(keep)`; the masks (one bitmask
 * buffer per tensor, see bitmask.ts) and the state are valid once the submitted work completes.
 */
export class GlobalTopK {
  readonly masks: GPUBuffer[];
  readonly state: GPUBuffer;
  readonly total: number;
  private readonly init: GPUBuffer;
  private readonly hist: GPUBuffer;
  private readonly blockTies: GPUBuffer;
  private readonly own: GPUBuffer[];
  private readonly parts: {
    tensor: GpuTensor;
    blocks: number;
    hist: GPUBindGroup;
    ties: GPUBindGroup;
    mask: GPUBindGroup;
  }[];
  private readonly pick: GPUBindGroup;
  private readonly scan: GPUBindGroup;
  private readonly constants: Record<string, number>;

  constructor(
    private readonly kernels: GpuKernels,
    readonly inputs: GpuTensor[],
    options: GlobalTopKOptions = {},
  ) {
    this.constants = { MAGNITUDE: options.magnitude ? 1 : 0 };
    this.total = inputs.reduce((a, t) => a + t.length, 0);
    if (this.total >= 2 ** 32) throw new Error(`global top-k: ${this.total} entries exceed the 32-bit counters`);
    this.state = kernels.storage(STATE_WORDS * 4, 'selection state');
    this.init = kernels.storage(STATE_WORDS * 4, 'selection init');
    this.hist = kernels.storage(BINS * 4, 'radix histogram');
    const blocks = inputs.map((t) => Math.ceil(t.length / BLOCK));
    const totalBlocks = blocks.reduce((a, b) => a + b, 0);
    this.blockTies = kernels.storage(totalBlocks * 4, 'ties per block');
    this.masks = inputs.map((t, i) => kernels.storage(maskWords(t.length) * 4, `mask ${i}`));
    const uniforms: GPUBuffer[] = [];
    const c = this.constants;
    const [histogram, tieCount, mask] = [
      kernels.pipeline('radixHistogram', c),
      kernels.pipeline('tieCount', c),
      kernels.pipeline('thresholdMask', c),
    ];
    let firstBlock = 0;
    this.parts = inputs.map((tensor, i) => {
      const part = kernels.uniform(new Uint32Array([tensor.length, firstBlock]), `part ${i}`);
      uniforms.push(part);
      firstBlock += blocks[i];
      return {
        tensor,
        blocks: blocks[i],
        hist: kernels.bindGroup(histogram, [tensor.buffer, this.state, this.hist, part]),
        ties: kernels.bindGroup(tieCount, [tensor.buffer, this.state, this.blockTies, part]),
        mask: kernels.bindGroup(mask, [tensor.buffer, this.state, this.blockTies, this.masks[i], part]),
      };
    });
    const blockCount = kernels.uniform(new Uint32Array([totalBlocks]), 'blocks');
    uniforms.push(blockCount);
    this.pick = kernels.bindGroup(kernels.pipeline('radixPick', c), [this.state, this.hist]);
    this.scan = kernels.bindGroup(kernels.pipeline('tieScan', c), [this.state, this.blockTies, blockCount]);
    this.own = [this.state, this.init, this.hist, this.blockTies, ...this.masks, ...uniforms];
  }

  /** Submits the selection of the best `keep` entries (0 ≤ keep ≤ total). */
  run(keep: number): void {
    if (!Number.isInteger(keep) || keep < 0 || keep > this.total)
      throw new Error(`keep must be an integer in [0, ${this.total}], got ${keep}`);
    const { kernels } = this;
    const { device } = kernels;
    const c = this.constants;
    device.queue.writeBuffer(this.init, 0, new Uint32Array([0, 0, 0, keep, 0, 0]));
    const encoder = device.createCommandEncoder({ label: 'global top-k' });
    encoder.copyBufferToBuffer(this.init, 0, this.state, 0, STATE_WORDS * 4);
    const pass = encoder.beginComputePass();
    const histogram = kernels.pipeline('radixHistogram', c);
    const pick = kernels.pipeline('radixPick', c);
    for (let d = 0; d < DIGITS; d++) {
      for (const p of this.parts)
        kernels.dispatch(pass, histogram, p.hist, Math.ceil(p.tensor.length / (WG * HISTOGRAM_ITEMS)));
      kernels.dispatch(pass, pick, this.pick, 1);
    }
    const tieCount = kernels.pipeline('tieCount', c);
    for (const p of this.parts) kernels.dispatch(pass, tieCount, p.ties, p.blocks);
    kernels.dispatch(pass, kernels.pipeline('tieScan', c), this.scan, 1);
    const mask = kernels.pipeline('thresholdMask', c);
    for (const p of this.parts) kernels.dispatch(pass, mask, p.mask, p.blocks);
    pass.end();
    device.queue.submit([encoder.finish()]);
  }

  /** The threshold and counts of the last run (waits for it). */
  async readThreshold(): Promise<GlobalThreshold> {
    const [, key, , remaining, above, ties] = await this.kernels.readWords(this.state, STATE_WORDS);
    return { key, value: keyValue(key), above, ties, tiesKept: remaining, kept: above + remaining };
  }

  /** The masks of the last run as 0/1 arrays, one per tensor (waits for it). */
  async readMasks(): Promise<Uint8Array[]> {
    return Promise.all(
      this.masks.map(async (m, i) =>
        unpackBits(await this.kernels.readWords(m, maskWords(this.inputs[i].length)), this.inputs[i].length),
      ),
    );
  }

  /** Frees the buffers this selection made (not the inputs). */
  destroy(): void {
    for (const b of this.own) b.destroy();
  }
}
