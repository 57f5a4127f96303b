import { describe, expect, it } from 'vitest';
import { formatBytes, formatCount, formatCountOf, formatFlops, formatPercent, formatValue } from './format';

describe('format', () => {
  it('counts with three significant digits and an SI prefix', () => {
    expect(formatCount(0)).toBe('0');
    expect(formatCount(650)).toBe('650');
    expect(formatCount(1234)).toBe('1.23 k');
    expect(formatCount(49_728)).toBe('49.7 k');
    expect(formatCount(1_234_567)).toBe('1.23 M');
    expect(formatCount(999.6)).toBe('1.00 k');
    expect(formatCount(999_700)).toBe('1.00 M');
  });
  it('FLOPs, bytes, percentages, plain values', () => {
    expect(formatFlops(45_600_000)).toBe('45.6 MFLOPs');
    expect(formatFlops(1_280)).toBe('1.28 kFLOPs');
    expect(formatFlops(0)).toBe('0 FLOPs');
    expect(formatBytes(16_521)).toBe('16.5 kB');
    expect(formatPercent(0.195)).toBe('19.5%');
    expect(formatPercent(1)).toBe('100.0%');
    expect(formatValue(7.99123)).toBe('7.99');
    expect(formatValue(255.4)).toBe('255');
    expect(formatValue(12345.6)).toBe('12,346');
    expect(formatCountOf(1, 'split')).toBe('1 split');
    expect(formatCountOf(1234, 'split')).toBe('1,234 splits');
  });
});
