// The GPUDevice TensorFlow.js's WebGPU backend runs on, so that our kernels read and write the same
// buffers as its tensors (no copy through the CPU). Null when another backend is current.
import * as tf from '@tensorflow/tfjs';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';

export function tfjsWebGpu(): { backend: WebGPUBackend; device: GPUDevice } | null {
  if (tf.getBackend() !== 'webgpu') return null;
  const backend = tf.backend() as unknown as WebGPUBackend;
  return { backend, device: backend.device };
}

/** Waits until the GPU has finished everything TensorFlow.js (and anyone else) submitted. */
export async function tfjsGpuIdle(backend: WebGPUBackend): Promise<void> {
  backend.ensureCommandEncoderReady(); // submitQueue needs an encoder, even an empty one
  backend.endComputePassEncoder();
  backend.submitQueue();
  await backend.device.queue.onSubmittedWorkDone();
}
