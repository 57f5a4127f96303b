// The kernels of one GPUDevice: compiled pipelines (cached per kernel and override constants) and
// the buffer helpers the wrappers share. The device is TensorFlow.js's own in the page and the
// worker (tfjs-device.ts), so kernels and tensors share buffers; in Node it comes from Dawn
// (node-device.ts).
import { SHADERS, type KernelName } from './shaders';
import { grid } from './dispatch';

/** A tensor on the GPU: a buffer of f32 values and how many of them count. */
export interface GpuTensor {
  buffer: GPUBuffer;
  length: number;
}

export interface KernelOptions {
  /** Caps workgroups per dispatch dimension below the device's limit (tests use it to reach the 2-D path cheaply). */
  maxWorkgroupsPerDimension?: number;
}

export class GpuKernels {
  readonly maxWorkgroupsPerDimension: number;
  private readonly modules = new Map<KernelName, GPUShaderModule>();
  private readonly pipelines = new Map<string, GPUComputePipeline>();

  constructor(
    readonly device: GPUDevice,
    options: KernelOptions = {},
  ) {
    this.maxWorkgroupsPerDimension = Math.min(
      device.limits.maxComputeWorkgroupsPerDimension,
      options.maxWorkgroupsPerDimension ?? Infinity,
    );
  }

  /** The pipeline of `kernel` with its override constants (booleans as 0/1). */
  pipeline(kernel: KernelName, constants: Record<string, number> = {}): GPUComputePipeline {
    const id = `${kernel}:${JSON.stringify(constants)}`;
    let p = this.pipelines.get(id);
    if (!p) {
      let module = this.modules.get(kernel);
      if (!module) {
        module = this.device.createShaderModule({ label: kernel, code: SHADERS[kernel].join('\n') });
        this.modules.set(kernel, module);
      }
      p = this.device.createComputePipeline({
        label: kernel,
        layout: 'auto',
        compute: { module, entryPoint: 'main', constants },
      });
      this.pipelines.set(id, p);
    }
    return p;
  }

  bindGroup(pipeline: GPUComputePipeline, buffers: GPUBuffer[]): GPUBindGroup {
    return this.device.createBindGroup({
      layout: pipeline.getBindGroupLayout(0),
      entries: buffers.map((buffer, binding) => ({ binding, resource: { buffer } })),
    });
  }

  /** Records one dispatch of `workgroups` workgroups (2-D when over the per-dimension limit). */
  dispatch(pass: GPUComputePassEncoder, pipeline: GPUComputePipeline, group: GPUBindGroup, workgroups: number): void {
    if (workgroups === 0) return;
    const [x, y] = grid(workgroups, this.maxWorkgroupsPerDimension);
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, group);
    pass.dispatchWorkgroups(x, y);
  }

  /** A storage buffer (at least 4 bytes: WebGPU binds no empty buffer), zeroed or holding `data`. */
  storage(bytesOrData: number | ArrayBufferView, label?: string): GPUBuffer {
    const data = typeof bytesOrData === 'number' ? null : bytesOrData;
    const size = Math.max(4, Math.ceil((data ? data.byteLength : (bytesOrData as number)) / 4) * 4);
    const buffer = this.device.createBuffer({
      label,
      size,
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
    });
    if (data) this.device.queue.writeBuffer(buffer, 0, data.buffer, data.byteOffset, data.byteLength);
    return buffer;
  }

  uniform(words: Uint32Array<ArrayBuffer>, label?: string): GPUBuffer {
    const buffer = this.device.createBuffer({
      label,
      size: Math.max(16, words.byteLength),
      usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
    });
    this.device.queue.writeBuffer(buffer, 0, words);
    return buffer;
  }

  /** Uploads f32 values as a GpuTensor. */
  upload(values: Float32Array, label?: string): GpuTensor {
    return { buffer: this.storage(values, label), length: values.length };
  }

  /** Copies `words` u32 words of `buffer` back to the CPU (waits for all submitted work). */
  async readWords(buffer: GPUBuffer, words: number): Promise<Uint32Array> {
    const size = Math.max(4, words * 4);
    const staging = this.device.createBuffer({ size, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    const encoder = this.device.createCommandEncoder();
    encoder.copyBufferToBuffer(buffer, 0, staging, 0, size);
    this.device.queue.submit([encoder.finish()]);
    await staging.mapAsync(GPUMapMode.READ);
    const out = new Uint32Array(staging.getMappedRange().slice(0, words * 4));
    staging.destroy();
    return out;
  }
}

const kernelsByDevice = new WeakMap<GPUDevice, GpuKernels>();

/** The kernels of `device`, compiled once per device: the new device after a loss gets new ones. */
export function kernelsOf(device: GPUDevice): GpuKernels {
  let k = kernelsByDevice.get(device);
  if (!k) {
    k = new GpuKernels(device);
    kernelsByDevice.set(device, k);
  }
  return k;
}
