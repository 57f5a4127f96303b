import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// Cross-origin isolation: lets the page use SharedArrayBuffer (and
// high-resolution timers). Everything the app loads must then be same-origin
// or served with CORP/CORS headers.
const crossOriginIsolation = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

const fromRoot = (p: string) => fileURLToPath(new URL(p, import.meta.url));

// Unit-test settings live in vitest.config.ts, not here.
export default defineConfig({
  plugins: [react()],
  worker: {
    // Module workers: `new Worker(new URL('./x.ts', import.meta.url), { type: 'module' })`.
    format: 'es',
  },
  server: {
    headers: crossOriginIsolation,
  },
  preview: {
    headers: crossOriginIsolation,
  },
  build: {
    target: 'es2022',
    // tfjs is big; do not drown the build log in chunk-size warnings.
    chunkSizeWarningLimit: 4096,
    rolldownOptions: {
      // Vite 8 (Rolldown) name for what used to be build.rollupOptions.
      input: {
        main: fromRoot('./index.html'),
        // Tiny page used by e2e/webgpu.spec.ts to prove that WebGPU and the
        // tfjs 'webgpu' backend work in the test browser. Built into dist so
        // the e2e tests run against the same production build as the app.
        // Served at /e2e/fixtures/webgpu.html.
        webgpu: fromRoot('./e2e/fixtures/webgpu.html'),
        // e2e/forward-parity.spec.ts: the engine's forward on WebGPU against the TS reference.
        parity: fromRoot('./e2e/fixtures/parity.html'),
        // e2e/kernel-parity.spec.ts: every WGSL kernel against its TS twin in the browser.
        kernels: fromRoot('./e2e/fixtures/kernels.html'),
      },
    },
  },
});
