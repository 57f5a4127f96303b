// A GPUDevice in Node through Dawn (the `webgpu` package), for tests and benchmarks. Node only:
// the page and the worker take TensorFlow.js's device instead (tfjs-device.ts).
//
// Dawn needs a Vulkan driver: the real GPU's where the environment names one (the GPU machine's
// on-device.sh sets VK_DRIVER_FILES and installs the loader), else Chromium's SwiftShader (a CPU
// implementation: correct, slow). Debian's chromium ships SwiftShader and its own Vulkan loader in
// /usr/lib/chromium, which Dawn finds only through LD_LIBRARY_PATH at process start
// (scripts/with-vulkan.sh). A process started without it (vitest's workers) loads that loader
// itself first — with RTLD_NODELETE so it stays when Node refuses it as an addon — and Dawn's
// later dlopen("libvulkan.so.1") finds it loaded.
import { existsSync } from 'node:fs';

const CHROMIUM = '/usr/lib/chromium';
const RTLD_NOW = 2;
const RTLD_GLOBAL = 0x100;
const RTLD_NODELETE = 0x1000;

/** Points Dawn at SwiftShader unless the environment names a Vulkan driver (call before creating Dawn's instance). */
export function useSwiftShaderUnlessDriverNamed(): void {
  if (process.env.VK_DRIVER_FILES || process.env.VK_ICD_FILENAMES) return;
  const icd = `${CHROMIUM}/vk_swiftshader_icd.json`;
  if (!existsSync(icd)) return;
  process.env.VK_ICD_FILENAMES = icd;
  try {
    process.dlopen(
      { exports: {} } as NodeJS.Module,
      `${CHROMIUM}/libvulkan.so.1`,
      RTLD_NOW | RTLD_GLOBAL | RTLD_NODELETE,
    );
  } catch {
    // Expected: "did not self-register" — the library is loaded all the same.
  }
}

// Dawn's instance must outlive its devices: collecting it while a device works corrupts Dawn's
// state (aborts in ProcessEvents). Each device keeps its instance reachable.
const instances = new WeakMap<GPUDevice, GPU>();

export interface NodeGpu {
  gpu: GPU;
  adapter: GPUAdapter;
  device: GPUDevice;
  /** The adapter, in words (vendor, architecture, description). */
  description: string;
}

/**
 * Creates Dawn's GPU, adapter and device, and installs WebGPU's globals (GPUBufferUsage, ...).
 * Throws when no adapter is found: a missing GPU is an error to see, never a silent skip.
 */
export async function createNodeGpu(): Promise<NodeGpu> {
  useSwiftShaderUnlessDriverNamed();
  const { create, globals } = await import('webgpu');
  Object.assign(globalThis, globals);
  const gpu = create(['backend=vulkan']);
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) {
    throw new Error(
      `Dawn found no WebGPU adapter (VK_DRIVER_FILES=${process.env.VK_DRIVER_FILES ?? ''}, VK_ICD_FILENAMES=${process.env.VK_ICD_FILENAMES ?? ''}): ` +
        `install chromium (its SwiftShader) or a GPU's Vulkan driver`,
    );
  }
  const device = await adapter.requestDevice({
    requiredLimits: {
      maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
      maxBufferSize: adapter.limits.maxBufferSize,
    },
  });
  instances.set(device, gpu);
  const info = adapter.info;
  const description = [info?.vendor, info?.architecture, info?.description].filter(Boolean).join(' ') || 'adapter';
  return { gpu, adapter, device, description };
}
