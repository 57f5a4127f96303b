// The browser's kernel parity suite (e2e/kernel-parity.spec.ts runs it under Playwright) run here
// through Dawn: proves the suite itself passes where the per-kernel tests do.
import { describe, expect, it } from 'vitest';
import { useTestGpu } from './test-gpu';
import { runParitySuite } from './parity-suite';

const gpu = useTestGpu();

describe('kernel parity suite', () => {
  it('finds every kernel equal to its reference', async () => {
    const checks = await runParitySuite(gpu.node.device);
    expect(new Set(checks.map((c) => c.kernel)).size).toBe(7);
    expect(checks.filter((c) => !c.ok)).toEqual([]);
  });
});
