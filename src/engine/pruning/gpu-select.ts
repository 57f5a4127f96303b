// The selection step of pruning on our WebGPU kernels, on TensorFlow.js's GPUDevice: the same masks
// as unstructured.ts's selectRows, whose building blocks are the kernels' reference twins. A slider
// moves only the keep counts, so the scores are uploaded, and the global and per-layer selections
// prepared, once for as long as the scores are the same arrays (unstructured.ts keeps them) on the
// same device. One such entry at a time: scores weigh what the model's prunable weights do.
import type { LinearSpec } from '../model/schema';
import { maskWords, unpackBits } from '../gpu/bitmask';
import { GlobalTopK } from '../gpu/global-topk';
import { kernelsOf, type GpuKernels, type GpuTensor } from '../gpu/kernels';
import { nmMask } from '../gpu/nm-mask';
import { rowTopK } from '../gpu/row-topk';
import { throwingGpuErrors } from '../gpu/error-scopes';
import type { SelectionPlan } from './unstructured';

/** Scores uploaded to one device, and the selections prepared on them when first asked for. */
class Uploaded {
  readonly tensors: GpuTensor[];
  private global: GlobalTopK | null = null;
  private layers: GlobalTopK[] | null = null;

  constructor(
    readonly kernels: GpuKernels,
    readonly scores: readonly Float32Array[],
  ) {
    this.tensors = scores.map((s, i) => kernels.upload(s, `scores ${i}`));
  }

  globalSelection(): GlobalTopK {
    this.global ??= new GlobalTopK(this.kernels, this.tensors);
    return this.global;
  }

  layerSelections(): GlobalTopK[] {
    this.layers ??= this.tensors.map((t) => new GlobalTopK(this.kernels, [t]));
    return this.layers;
  }

  destroy(): void {
    this.global?.destroy();
    for (const s of this.layers ?? []) s.destroy();
    for (const t of this.tensors) t.buffer.destroy();
  }
}

/** A newer WebGPU's view of the adapter a device came from (not yet in @webgpu/types). */
type AdapterInfoOf = { adapterInfo?: { architecture?: string; isFallbackAdapter?: boolean } };

/** Whether `device` is on a software adapter (SwiftShader), where the CPU selects much faster. */
export function softwareAdapter(device: GPUDevice): boolean {
  const info = (device as GPUDevice & AdapterInfoOf).adapterInfo;
  return !!info?.isFallbackAdapter || info?.architecture === 'swiftshader';
}

const watched = new WeakSet<GPUDevice>();
const lost = new WeakSet<GPUDevice>();
let cached: Uploaded | null = null;

/** The device's kernels, noting when the device is lost (its buffers then go with it). */
function kernelsFor(device: GPUDevice): GpuKernels {
  if (!watched.has(device)) {
    watched.add(device);
    void device.lost.then(() => lost.add(device));
  }
  return kernelsOf(device);
}

/** Frees the uploaded scores and prepared selections (a lost device's went with it). */
export function releaseGpuSelection(): void {
  const entry = cached;
  cached = null;
  if (entry && !lost.has(entry.kernels.device)) entry.destroy();
}

function uploaded(device: GPUDevice, scores: readonly Float32Array[]): Uploaded {
  if (cached?.kernels.device === device && cached.scores === scores) return cached;
  releaseGpuSelection();
  cached = new Uploaded(kernelsFor(device), scores);
  return cached;
}

/** Submits the selection: its mask buffers (bitmask.ts layout), and which of them were made for this call only. */
function submit(entry: Uploaded, specs: LinearSpec[], plan: SelectionPlan): { masks: GPUBuffer[]; made: GPUBuffer[] } {
  const { kernels, tensors } = entry;
  const shape = (i: number) => ({ rows: specs[i].outFeatures, cols: specs[i].inFeatures });
  switch (plan.kind) {
    case 'global': {
      const selection = entry.globalSelection();
      selection.run(plan.keep);
      return { masks: selection.masks, made: [] };
    }
    case 'layer':
      return {
        masks: entry.layerSelections().map((selection, i) => {
          selection.run(plan.keep[i]);
          return selection.masks[0];
        }),
        made: [],
      };
    case 'row': {
      const masks = tensors.map((t, i) => rowTopK(kernels, t, shape(i), plan.keep[i]));
      return { masks, made: masks };
    }
    case 'nm': {
      const masks = tensors.map((t, i) => nmMask(kernels, t, shape(i), plan.n, plan.m));
      return { masks, made: masks };
    }
  }
}

/** Reads every mask back through one staging buffer (one map, not one per layer) as 0/1 arrays. */
async function readMasks(device: GPUDevice, masks: GPUBuffer[], lengths: number[]): Promise<Uint8Array[]> {
  const words = lengths.map(maskWords);
  const offsets: number[] = [];
  let total = 0;
  for (const w of words) {
    offsets.push(total);
    total += w;
  }
  const staging = device.createBuffer({
    label: 'masks read back',
    size: Math.max(4, total * 4),
    usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
  });
  try {
    const encoder = device.createCommandEncoder({ label: 'masks read back' });
    masks.forEach((m, i) => {
      encoder.copyBufferToBuffer(m, 0, staging, offsets[i] * 4, words[i] * 4);
    });
    device.queue.submit([encoder.finish()]);
    await staging.mapAsync(GPUMapMode.READ);
    const all = new Uint32Array(staging.getMappedRange(), 0, total);
    return lengths.map((n, i) => unpackBits(all.subarray(offsets[i], offsets[i] + words[i]), n));
  } finally {
    staging.destroy();
  }
}

async function selectAndRead(
  device: GPUDevice,
  specs: LinearSpec[],
  scores: readonly Float32Array[],
  plan: SelectionPlan,
): Promise<Uint8Array[]> {
  const entry = uploaded(device, scores);
  const { masks, made } = submit(entry, specs, plan);
  try {
    return await readMasks(
      device,
      masks,
      entry.tensors.map((t) => t.length),
    );
  } finally {
    for (const b of made) b.destroy();
  }
}

/**
 * The selection of `plan` on `device` (TensorFlow.js's): one 0/1 mask per layer as [out, in] rows,
 * equal to selectRows's. The scores stay on the device for the next call with the same array.
 * Throws when the device is lost or a GPU error occurs, and keeps nothing then.
 */
export async function selectRowsOnGpu(
  device: GPUDevice,
  specs: LinearSpec[],
  scores: readonly Float32Array[],
  plan: SelectionPlan,
): Promise<Uint8Array[]> {
  if (lost.has(device)) throw new Error('the GPU device was lost');
  try {
    return await throwingGpuErrors(device, () => selectAndRead(device, specs, scores, plan));
  } catch (e) {
    releaseGpuSelection();
    throw e;
  }
}
