import { defineConfig } from 'vitest/config';

// Unit tests run in Node (tfjs on its CPU backend, or Dawn via the `webgpu`
// package). Browser tests are Playwright's job: see e2e/ and playwright.config.ts.
export default defineConfig({
  test: {
    environment: 'node',
    include: ['src/**/*.test.ts', 'scripts/**/*.test.ts'],
    exclude: ['e2e/**', 'node_modules/**', 'dist/**'],
    // tfjs on the CPU backend is slow on this 2-core machine.
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
