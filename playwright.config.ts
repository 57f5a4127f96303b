import { defineConfig, devices } from '@playwright/test';

const isCI = !!process.env.CI;
// PW_PORT lets a second checkout run its tests while another one's preview server holds 4173.
const PORT = Number(process.env.PW_PORT ?? 4173);
// PW_DIST serves another build folder (`npx vite build --outDir X`), so two checkouts or helpers
// can build and test side by side without overwriting each other's dist/.
const DIST = process.env.PW_DIST ?? 'dist';

// Browser flags (also bench/slider-latency.ts's). This machine (and CI) has no GPU and no network.
export const chromiumArgs = [
  // The one flag WebGPU needs here. Chromium on Linux keeps WebGPU behind a
  // blocklist; without this flag navigator.gpu exists but requestAdapter()
  // resolves to null. With it Chromium falls back to its bundled SwiftShader
  // Vulkan ICD (/usr/lib/chromium/libvk_swiftshader.so), giving the adapter
  // {vendor: 'google', architecture: 'swiftshader', isFallbackAdapter: true}.
  // Tried and found unnecessary on Chromium 156 (Debian), so left out:
  // --enable-features=Vulkan, --use-vulkan=swiftshader,
  // --use-webgpu-adapter=swiftshader, --enable-unsafe-swiftshader,
  // --use-angle=swiftshader, --disable-vulkan-surface.
  '--enable-unsafe-webgpu',
  // We run as root in CI; Chromium refuses to start sandboxed as root.
  '--no-sandbox',
  // The network is closed: skip background fetches that only time out.
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

export default defineConfig({
  testDir: 'e2e',
  // e2e/fixtures holds pages served by Vite, not tests.
  testIgnore: ['fixtures/**'],
  // 2-core machine; the browser + SwiftShader already use both cores.
  workers: 1,
  fullyParallel: false,
  // SwiftShader runs WebGPU on the CPU: slow. Generous per-test budget.
  timeout: 180_000,
  expect: { timeout: 60_000 },
  forbidOnly: isCI,
  retries: 0,
  outputDir: 'test-results/e2e',
  reporter: [
    ['list'],
    // Read by scripts/test.sh for the final "N passed, N failed" line.
    ['json', { outputFile: 'test-results/e2e-results.json' }],
  ],
  use: {
    baseURL: `http://localhost:${PORT}`,
    headless: true,
    screenshot: 'only-on-failure',
    trace: 'off',
  },
  projects: [
    {
      name: 'chromium',
      use: {
        ...devices['Desktop Chrome'],
        // Debian's chromium (scripts/ensure-chromium.sh installs it); never a
        // Playwright-downloaded browser.
        launchOptions: {
          executablePath: '/usr/bin/chromium',
          args: chromiumArgs,
        },
      },
    },
  ],
  webServer: {
    // Serves the production build in dist/: run `npx vite build` first
    // (scripts/test.sh does).
    command: `npx vite preview --port ${PORT} --strictPort --outDir ${DIST}`,
    url: `http://localhost:${PORT}`,
    reuseExistingServer: !isCI,
    timeout: 60_000,
    stdout: 'ignore',
    stderr: 'pipe',
  },
});
