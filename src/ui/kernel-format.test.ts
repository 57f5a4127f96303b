import { describe, expect, it } from 'vitest';
import type { LinearChoice } from '../workers/api';
import { describeKernels, formatKernelMs, kernelRows } from './kernel-format';

const choice = (
  weight: string,
  path: LinearChoice['path'],
  ms: LinearChoice['ms'],
  n = 1088,
  density = 0.1,
  rejected: LinearChoice['rejected'] = {},
): LinearChoice => ({ weight, n, density, path, ms, rejected });

describe('kernel choices in words', () => {
  it('counts the layers that ran on our kernels by format', () => {
    const choices = [
      choice('a', 'csr', { tfjs: 0.4, csr: 0.1 }),
      choice('b', 'csr', { tfjs: 0.4, csr: 0.2 }),
      choice('c', 'nm24', { tfjs: 0.4, csr: 0.5, nm24: 0.3 }, 1, 0.5),
      choice('d', 'tfjs', { tfjs: 0.1, csr: 0.3 }),
    ];
    expect(describeKernels(choices)).toBe(
      '3 of 4 layer products ran on our kernels (sparse (CSR) 2, 2:4 compressed 1); the rest on TF.js dense, which measured faster.',
    );
    expect(describeKernels([choice('d', 'tfjs', { tfjs: 0.1 })])).toBe(
      '0 of 1 layer products ran on our kernels; the rest on TF.js dense, which measured faster.',
    );
    expect(describeKernels([choice('a', 'dense', { tfjs: 0.1, dense: 0.05 })])).toBe(
      '1 of 1 layer products ran on our kernels (our dense 1).',
    );
    expect(describeKernels([])).toBe('No pruned layer ran on the GPU yet.');
  });

  it('lists each layer with the chosen path first and every timing', () => {
    const [row, other] = kernelRows([
      choice('h.0.mlp.c_fc.weight', 'csr', { tfjs: 0.4, csr: 0.0123 }),
      choice('h.1.attn.c_attn.weight', 'tfjs', { tfjs: 0.1 }),
    ]);
    expect(row).toEqual({
      layer: '0.mlp.c_fc',
      tokens: '1,088',
      kept: '10.0%',
      ran: 'sparse (CSR)',
      timings: 'sparse (CSR) 12.3 µs · TF.js dense 400 µs',
    });
    expect(other.layer).toBe('1.attn.c_attn');
    expect(kernelRows([choice('h.0.mlp.c_fc.weight', 'csr', { csr: 1 })])[0].layer).toBe('h.0.mlp.c_fc');
    expect(formatKernelMs(1.5)).toBe('1.50 ms');
    const [failed] = kernelRows([
      choice('w', 'tfjs', { tfjs: 0.2 }, 1, 0.1, { csr: 'its product differs from TF.js’s (output 3: 1 vs 2)' }),
    ]);
    expect(failed.timings).toBe(
      'TF.js dense 200 µs · sparse (CSR) not used: its product differs from TF.js’s (output 3: 1 vs 2)',
    );
  });
});
