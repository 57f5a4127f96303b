// Chooses the TensorFlow.js backend before any model is opened: WebGPU where the browser offers an
// adapter, else the plain CPU backend.
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-webgpu';
import type { BackendInfo, BackendName } from './api';

async function adapterName(): Promise<{ name: string | null; reason: string | null }> {
  if (typeof navigator === 'undefined' || !('gpu' in navigator) || !navigator.gpu) {
    return { name: null, reason: 'this browser does not offer WebGPU (navigator.gpu is missing)' };
  }
  const adapter = await navigator.gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) return { name: null, reason: 'no WebGPU adapter is available' };
  const info = (adapter as GPUAdapter & { info?: GPUAdapterInfo }).info;
  const parts = [info?.vendor, info?.architecture || info?.device].filter(Boolean).join(' ');
  const fallback = (adapter as GPUAdapter & { isFallbackAdapter?: boolean }).isFallbackAdapter || (info as { isFallbackAdapter?: boolean } | undefined)?.isFallbackAdapter;
  return { name: `${parts || 'unknown adapter'}${fallback ? ' (software fallback)' : ''}`, reason: null };
}

/** Why WebGPU cannot be used, or null when it started. */
async function startWebGpu(): Promise<{ adapter: string | null; reason: string | null }> {
  try {
    const found = await adapterName();
    if (!found.name) return { adapter: null, reason: found.reason };
    if (!(await tf.setBackend('webgpu'))) return { adapter: found.name, reason: 'the WebGPU backend of TensorFlow.js failed to start' };
    await tf.ready();
    return { adapter: found.name, reason: tf.getBackend() === 'webgpu' ? null : 'the WebGPU backend of TensorFlow.js failed to start' };
  } catch (e) {
    return { adapter: null, reason: `WebGPU failed: ${(e as Error).message}` };
  }
}

/** WebGPU unless `preferred` is 'cpu' or WebGPU cannot start; then TensorFlow.js's CPU backend. */
export async function chooseBackend(preferred: BackendName = 'webgpu'): Promise<BackendInfo> {
  let reason = 'the CPU backend was asked for';
  if (preferred === 'webgpu') {
    const gpu = await startWebGpu();
    if (gpu.reason === null) return { name: 'webgpu', adapter: gpu.adapter, fallbackReason: null };
    reason = gpu.reason;
  }
  if (!(await tf.setBackend('cpu'))) throw new Error('neither the WebGPU nor the CPU backend of TensorFlow.js could start');
  await tf.ready();
  return { name: 'cpu', adapter: null, fallbackReason: reason };
}
