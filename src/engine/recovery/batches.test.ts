// Training windows cut as evaluation cuts them; seeded batches that visit every example once per epoch.
import { describe, expect, it } from 'vitest';
import { lmWindowBatch } from '../eval/metrics';
import type { CalibrationData } from '../pruning/calibration';
import { lmTrainingWindows, trainingBatches } from './batches';

const tokens = Int32Array.from({ length: 50 }, (_, i) => (i * 7) % 23);

describe('training batches', () => {
  it('cuts a text into the windows evaluateLm scores', () => {
    for (const stride of [8, 5]) {
      const data = lmTrainingWindows(tokens, 8, stride);
      if (data.kind !== 'lm') throw new Error('expected windows');
      const ev = lmWindowBatch(tokens, { context: 8, stride }, 0, data.count);
      expect(data.count).toBe(stride === 8 ? 6 : 9);
      for (let w = 0; w < data.count; w++) {
        const row = data.windows.subarray(w * 9, (w + 1) * 9);
        expect(Array.from(row.subarray(0, 8))).toEqual(Array.from(ev.inp.subarray(w * 8, (w + 1) * 8)));
        expect(Array.from(row.subarray(1))).toEqual(Array.from(ev.tgt.subarray(w * 8, (w + 1) * 8)));
      }
    }
    expect(() => lmTrainingWindows(tokens.subarray(0, 8), 8)).toThrow(/more than 8 tokens/);
  });

  it('gives every example once per epoch, in an order fixed by the seed', () => {
    const data: CalibrationData = {
      kind: 'images',
      description: 'six images',
      count: 6,
      pixels: Uint8Array.from({ length: 12 }, (_, i) => Math.floor(i / 2) * 10),
      labels: Uint8Array.from([0, 1, 2, 3, 4, 5]),
    };
    const labelsOf = (step: number, batches = trainingBatches(data, 4, 3)) => {
      const b = batches(step);
      if (b.kind !== 'images' || !b.labels) throw new Error('expected labelled images');
      // Pixels travel with their labels.
      b.labels.forEach((l, i) => {
        expect([b.pixels[2 * i], b.pixels[2 * i + 1]]).toEqual([l * 10, l * 10]);
      });
      return Array.from(b.labels);
    };
    const batches = trainingBatches(data, 4, 3);
    const firstEpochs = [0, 1, 2].flatMap((step) => labelsOf(step, batches));
    expect(firstEpochs.slice(0, 6).sort()).toEqual([0, 1, 2, 3, 4, 5]);
    expect(firstEpochs.slice(6).sort()).toEqual([0, 1, 2, 3, 4, 5]);
    expect(firstEpochs.slice(0, 6)).not.toEqual(firstEpochs.slice(6));
    // The same step gives the same batch, asked again, out of order, or from a fresh source.
    expect(labelsOf(1, batches)).toEqual(firstEpochs.slice(4, 8));
    expect(labelsOf(2)).toEqual(firstEpochs.slice(8));
    expect(labelsOf(0, trainingBatches(data, 4, 4))).not.toEqual(firstEpochs.slice(0, 4));
  });
});
