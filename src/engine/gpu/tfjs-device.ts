// TensorFlow.js's WebGPU backend as our kernels see it: its GPUDevice, and its tensors' GPUBuffers,
// so that a kernel reads a tensor's buffer and writes another tensor's buffer in place — no copy,
// through the CPU or on the GPU. Null when another backend is current.
import * as tf from '@tensorflow/tfjs';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';

export function tfjsWebGpu(): { backend: WebGPUBackend; device: GPUDevice } | null {
  if (tf.getBackend() !== 'webgpu') return null;
  const backend = tf.backend() as unknown as WebGPUBackend;
  return { backend, device: backend.device };
}

/** The priority @tensorflow/tfjs-backend-webgpu registers its backend with (its base.ts). */
const WEBGPU_PRIORITY = 3;

/**
 * Drops the 'webgpu' backend (its buffers died with the device) and registers the same factory
 * again, so the next tf.setBackend('webgpu') asks the adapter for a new device.
 */
export function resetWebGpuBackend(): void {
  const factory = tf.engine().findBackendFactory('webgpu');
  if (!factory) return;
  tf.removeBackend('webgpu');
  tf.registerBackend('webgpu', factory, WEBGPU_PRIORITY);
}

/**
 * Submits what TF.js has recorded but not yet submitted. TF.js batches its commands in its own
 * encoder; work we submit ourselves must come after them in the queue (our kernel reads what they
 * wrote, and they may have been recorded before our input tensor's upload).
 */
export function flushTfjs(backend: WebGPUBackend): void {
  backend.ensureCommandEncoderReady(); // submitQueue needs an encoder, even an empty one
  backend.endComputePassEncoder();
  backend.submitQueue();
}

/** Waits until the GPU has finished everything TensorFlow.js (and anyone else) submitted. */
export async function tfjsGpuIdle(backend: WebGPUBackend): Promise<void> {
  flushTfjs(backend);
  await backend.device.queue.onSubmittedWorkDone();
}

/**
 * The GPUBuffer that holds a float32 tensor's values (uploading them first when they are still on
 * the CPU; the upload is recorded in TF.js's encoder, so flush before using the buffer). The
 * tensor keeps owning it: do not destroy it, and do not keep it past the tensor's life.
 */
export function tensorBuffer(backend: WebGPUBackend, t: tf.Tensor): GPUBuffer {
  if (t.dtype !== 'float32') throw new Error(`tensorBuffer: a ${t.dtype} tensor, float32 expected`);
  backend.uploadToGPU(t.dataId);
  const resource = backend.tensorMap.get(t.dataId).resource;
  if (!(resource instanceof GPUBuffer)) throw new Error('tensorBuffer: the tensor is not held in a GPUBuffer');
  return resource;
}

/**
 * A new float32 tensor of `shape` whose buffer a kernel is to write. TF.js allocates it from its
 * own pool and frees it with the tensor, as for any tensor it makes.
 */
export function outputTensor<R extends tf.Rank>(
  backend: WebGPUBackend,
  shape: tf.ShapeMap[R],
): { tensor: tf.Tensor<R>; buffer: GPUBuffer } {
  const info = backend.makeTensorInfo(shape as number[], 'float32');
  const tensor = tf.engine().makeTensorFromTensorInfo(info, backend) as tf.Tensor<R>;
  return { tensor, buffer: tensorBuffer(backend, tensor) };
}
