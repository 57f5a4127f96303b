// The SIMD kernels (assembly/simd.ts) against their plain-TypeScript twins, bit for bit, on random
// inputs (fast-check) and the awkward ones: lengths that leave a tail after the 4- and 16-lane
// blocks, signed zeros, subnormals, the clamp's edges, infinities and NaN; both modules (ordinary and
// shared memory); and the committed binaries against a fresh compile of their source.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileSimd } from '../../../scripts/simd/compile';
import { SIMD_PLAIN, SIMD_SHARED } from './simd-binary';
import {
  attentionReference,
  erfReference,
  expReference,
  geluErfReference,
  geluTanhReference,
  gemmReference,
  gramReference,
  layerNormReference,
  expSumsReference,
  logSumExpReference,
  matmulReference,
  siluReference,
  sumSquaresReference,
} from './simd-reference';
import { instantiateSimd } from './wasm-simd';

const memories = {
  plain: () => new WebAssembly.Memory({ initial: 64 }),
  shared: () => new WebAssembly.Memory({ initial: 64, maximum: 64, shared: true }),
};

/** Bit-level equality, NaN equal to NaN whatever its payload. */
const same = (a: Float32Array, b: Float32Array) => a.every((x, i) => Object.is(x, b[i]));

const ADVERSARIAL = [
  0,
  -0,
  1e-45,
  -1e-45,
  1.1754942e-38,
  1e-30,
  -1e-7,
  0.5,
  -0.5,
  1,
  -1,
  3.9999998,
  4,
  -4,
  4.0000005,
  -4.0000005,
  9,
  -9,
  1e30,
  -3.4028235e38,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
  Number.NaN,
];

/**
 * A seeded stream of values in [-scale, scale) by a linear congruential generator; where `every` is
 * not 0, an awkward value instead whenever the generator's state is a multiple of it.
 */
function draws(seed: number, scale = 1, every = 0): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return every && s % every === 0 ? ADVERSARIAL[s % ADVERSARIAL.length]! : (s / 2 ** 31 - 1) * scale;
  };
}

/** erf in double precision: its Maclaurin series, exact to ~1e-11 on [-4, 4] (erf is 1 in f32 past 4). */
function erf64(x: number): number {
  if (Math.abs(x) > 4) return Math.sign(x);
  let term = x;
  let sum = x;
  for (let n = 1; n < 120; n++) {
    term *= (-x * x) / n;
    sum += term / (2 * n + 1);
  }
  return (2 / Math.sqrt(Math.PI)) * sum;
}

describe.each(Object.entries(memories))('SIMD kernels on %s memory', (_kind, memory) => {
  const mem = memory();
  const simd = instantiateSimd(mem);
  const f32 = () => new Float32Array(mem.buffer);

  function erfKernel(x: Float32Array): Float32Array {
    f32().set(x, 16);
    simd.erf(64, 64 + 4 * (x.length + 3), x.length);
    return f32().slice(16 + x.length + 3, 16 + 2 * x.length + 3);
  }

  it('erf equals its twin on the awkward values, in every lane and the tail', () => {
    for (let rot = 0; rot < 4; rot++) {
      const x = Float32Array.from([...ADVERSARIAL.slice(rot), ...ADVERSARIAL.slice(0, rot)]);
      expect(same(erfKernel(x), x.map(erfReference))).toBe(true);
    }
  });

  it('erf equals its twin on random values, in place too', () => {
    fc.assert(
      fc.property(fc.float32Array({ minLength: 0, maxLength: 37 }), (xs) => {
        const expected = xs.map(erfReference);
        if (!same(erfKernel(xs), expected)) return false;
        f32().set(xs, 8);
        simd.erf(32, 32, xs.length);
        return same(f32().slice(8, 8 + xs.length), expected);
      }),
      { numRuns: 300 },
    );
  });

  it.each([
    ['exact GELU', 'geluErf', geluErfReference],
    ['GELU’s tanh approximation', 'geluTanh', geluTanhReference],
    ['SiLU', 'silu', siluReference],
  ] as const)('%s equals its twin on the awkward values and random ones', (_, kernel, twin) => {
    const run = (x: Float32Array) => {
      f32().set(x, 0);
      simd[kernel](0, 4 * x.length, x.length);
      return f32().slice(x.length, 2 * x.length);
    };
    expect(same(run(Float32Array.from(ADVERSARIAL)), Float32Array.from(ADVERSARIAL, twin))).toBe(true);
    fc.assert(
      fc.property(fc.float32Array({ maxLength: 37 }), (xs) => same(run(xs), xs.map(twin))),
      { numRuns: 300 },
    );
  });

  it('layer norm equals its twin on random rows: widths around the blocks of four, constant rows, awkward values', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 1, max: 19 }),
        fc.integer(),
        fc.constantFrom(0, 1e-5, 1e-12),
        fc.constantFrom('random', 'constant', 'awkward'),
        (rows, d, seed, eps, kind) => {
          const draw = kind === 'constant' ? () => 0.25 : draws(seed, 3, kind === 'awkward' ? 5 : 0);
          const x = Float32Array.from({ length: rows * d }, draw);
          const gamma = Float32Array.from({ length: d }, draw);
          const beta = Float32Array.from({ length: d }, draw);
          const view = f32();
          view.set(x, 0);
          view.set(gamma, x.length);
          view.set(beta, x.length + d);
          const outAt = x.length + 2 * d;
          simd.layerNorm(0, 4 * x.length, 4 * (x.length + d), 4 * outAt, rows, d, eps);
          return same(f32().slice(outAt, outAt + x.length), layerNormReference(x, gamma, beta, rows, d, eps));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('the Gram matrix equals its twin: widths around its blocks of 4 × 8, 4 × 4 and the scalar tails, rows over several chunks', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 140 }), fc.integer({ min: 1, max: 21 }), fc.integer(), (rows, d, seed) => {
        const x = Float32Array.from({ length: rows * d }, draws(seed, 1, 11));
        f32().set(x, 0);
        f32().fill(7, x.length, x.length + d * d);
        simd.gram(0, 4 * x.length, rows, d);
        return same(f32().slice(x.length, x.length + d * d), gramReference(x, rows, d));
      }),
      { numRuns: 300 },
    );
  });

  it('attention equals its twin: causal or not, grouped heads, widths around its blocks of 4 and 16 lanes, q|k|v packed or apart', () => {
    fc.assert(
      fc.property(
        fc.record({
          batch: fc.integer({ min: 1, max: 3 }),
          t: fc.integer({ min: 1, max: 13 }),
          kvHeads: fc.integer({ min: 1, max: 3 }),
          group: fc.integer({ min: 1, max: 3 }),
          dh: fc.integer({ min: 1, max: 37 }),
          causal: fc.boolean(),
          scale: fc.constantFrom(1, 0.125, 1 / Math.sqrt(37)),
        }),
        fc.integer(),
        fc.boolean(),
        fc.boolean(),
        ({ group, ...rest }, seed, awkward, packed) => {
          const shape = { ...rest, heads: rest.kvHeads * group };
          const { batch, t, heads, kvHeads, dh } = shape;
          const draw = draws(seed, 4, awkward ? 13 : 0);
          const q = Float32Array.from({ length: batch * t * heads * dh }, draw);
          const k = Float32Array.from({ length: batch * t * kvHeads * dh }, draw);
          const v = Float32Array.from({ length: k.length }, draw);
          const view = f32();
          // Apart: q, then k, then v. Packed: each token's row [q | k | v], as one projection writes them.
          const qWidth = heads * dh;
          const kvWidth = kvHeads * dh;
          const width = qWidth + 2 * kvWidth;
          if (packed)
            for (let r = 0; r < batch * t; r++) {
              view.set(q.subarray(r * qWidth, (r + 1) * qWidth), r * width);
              view.set(k.subarray(r * kvWidth, (r + 1) * kvWidth), r * width + qWidth);
              view.set(v.subarray(r * kvWidth, (r + 1) * kvWidth), r * width + qWidth + kvWidth);
            }
          else {
            view.set(q, 0);
            view.set(k, q.length);
            view.set(v, q.length + k.length);
          }
          const [kAt, vAt] = packed ? [qWidth, qWidth + kvWidth] : [q.length, q.length + k.length];
          const outAt = q.length + 2 * k.length;
          const scratchAt = outAt + q.length;
          view.fill(7, outAt, scratchAt + (dh + 4) * (t + 3));
          simd.attention(
            0,
            4 * kAt,
            4 * vAt,
            4 * outAt,
            4 * scratchAt,
            batch,
            t,
            heads,
            kvHeads,
            dh,
            packed ? width : qWidth,
            packed ? width : kvWidth,
            shape.causal ? 1 : 0,
            shape.scale,
          );
          return same(f32().slice(outAt, outAt + q.length), attentionReference(q, k, v, shape));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('matmul equals its twin on random shapes: 16- and 4-column blocks, the scalar tail, k of 0', () => {
    fc.assert(
      fc.property(
        fc.record({
          batch: fc.integer({ min: 1, max: 4 }),
          m: fc.integer({ min: 1, max: 9 }),
          k: fc.integer({ min: 0, max: 11 }),
          n: fc.integer({ min: 1, max: 41 }),
        }),
        fc.integer(),
        fc.boolean(),
        ({ batch, m, k, n }, seed, awkward) => {
          const draw = draws(seed, 1, awkward ? 7 : 0);
          const a = Float32Array.from({ length: batch * m * k }, draw);
          const b = Float32Array.from({ length: batch * k * n }, draw);
          const view = f32();
          view.set(a, 0);
          view.set(b, a.length);
          const cAt = a.length + b.length;
          view.fill(7, cAt, cAt + batch * m * n);
          simd.matmul(0, 4 * a.length, 4 * cAt, batch, m, k, n);
          return same(f32().slice(cAt, cAt + batch * m * n), matmulReference(a, b, batch, m, k, n));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('the sums of e^x equal their twin over rows that leave a tail, spread wide or narrow, with awkward values', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 5 }),
        fc.integer({ min: 1, max: 70 }),
        fc.integer(),
        fc.constantFrom(1, 30, 300),
        fc.boolean(),
        (rows, n, seed, scale, awkward) => {
          const x = Float32Array.from({ length: rows * n }, draws(seed, scale, awkward ? 9 : 0));
          f32().set(x, 0);
          f32().fill(7, x.length, x.length + 2 * rows);
          simd.expSums(0, 4 * x.length, 4 * (x.length + rows), rows, n);
          const { sums, tops } = expSumsReference(x, rows, n);
          const got = f32();
          return (
            same(got.slice(x.length, x.length + rows), sums) &&
            same(got.slice(x.length + rows, x.length + 2 * rows), tops)
          );
        },
      ),
      { numRuns: 300 },
    );
  });

  it('the column sums of squares equal their twin: widths around the blocks of four, awkward values', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 40 }),
        fc.integer({ min: 1, max: 23 }),
        fc.integer(),
        fc.boolean(),
        (rows, d, seed, awkward) => {
          const x = Float32Array.from({ length: rows * d }, draws(seed, 3, awkward ? 7 : 0));
          f32().set(x, 0);
          f32().fill(7, x.length, x.length + d);
          simd.sumSquares(0, 4 * x.length, rows, d);
          return same(f32().slice(x.length, x.length + d), sumSquaresReference(x, rows, d));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('gemm equals its twin: b plain or transposed, with and without a bias, over blocks of depth and width, rows left after the blocks of four', () => {
    // A block of b holds 131,072 floats, its depth at most 1,024 (assembly/simd.ts): k past 1,024
    // splits the depth in two, and n of a few hundred takes more than one block of columns.
    const small = fc.integer({ min: 1, max: 13 });
    const wide = fc.integer({ min: 250, max: 530 });
    fc.assert(
      fc.property(
        fc.record({
          m: fc.integer({ min: 1, max: 11 }),
          k: fc.oneof(small, wide, fc.integer({ min: 1020, max: 1100 })),
          n: fc.oneof(small, wide),
        }),
        fc.integer(),
        fc.boolean(),
        fc.boolean(),
        fc.boolean(),
        ({ m, k, n }, seed, awkward, transposeB, withBias) => {
          const draw = draws(seed, 1, awkward ? 7 : 0);
          const a = Float32Array.from({ length: m * k }, draw);
          const b = Float32Array.from({ length: k * n }, draw);
          const bias = withBias ? Float32Array.from({ length: n }, draw) : null;
          const view = f32();
          view.set(a, 0);
          view.set(b, a.length);
          if (bias) view.set(bias, a.length + b.length);
          const cAt = a.length + b.length + n;
          const packAt = cAt + m * n;
          view.fill(7, cAt, packAt);
          simd.gemm(0, 4 * a.length, 4 * cAt, 4 * (a.length + b.length), 4 * packAt, m, k, n, +transposeB, +withBias);
          return same(f32().slice(cAt, packAt), gemmReference(a, b, bias, m, k, n, transposeB));
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe('the SIMD kernels’ twins', () => {
  it('erf is within 4e-7 of erf in double precision (the stock kernel: 4.4e-8)', () => {
    let worst = 0;
    for (let x = -5; x <= 5; x += 1 / 4096) worst = Math.max(worst, Math.abs(erfReference(x) - erf64(x)));
    expect(worst).toBeLessThan(4e-7);
    expect(erfReference(Number.NaN)).toBeNaN();
    expect(Object.is(erfReference(-0), -0)).toBe(true);
  });

  it('e^x is within 2 units in the last place of Math.exp over [-87, 88]', () => {
    let worst = 0;
    for (let x = -87; x <= 88; x += 1 / 64) {
      const e = Math.exp(Math.fround(x));
      worst = Math.max(worst, Math.abs(expReference(x) - e) / (e * 2 ** -23));
    }
    expect(worst).toBeLessThan(2);
  });

  it('log-sum-exp is within 2e-6 of log Σ e^x in double precision', () => {
    const x = Float32Array.from({ length: 3 * 1000 }, draws(3, 20));
    const got = logSumExpReference(x, 3, 1000);
    for (let r = 0; r < 3; r++) {
      const row = Array.from(x.subarray(r * 1000, (r + 1) * 1000));
      const m = Math.max(...row);
      const want = m + Math.log(row.reduce((s, v) => s + Math.exp(v - m), 0));
      expect(Math.abs(got[r]! - want) / Math.abs(want)).toBeLessThan(2e-6);
    }
  });

  it('attention is within 5e-6 of attention in double precision (inputs up to 3 in size), causal or not, grouped heads', () => {
    const shape = { batch: 2, t: 9, heads: 4, kvHeads: 2, dh: 20, scale: 1 / Math.sqrt(20) };
    const draw = draws(1, 3);
    const q = Float32Array.from({ length: 2 * 9 * 4 * 20 }, draw);
    const k = Float32Array.from({ length: 2 * 9 * 2 * 20 }, draw);
    const v = Float32Array.from({ length: k.length }, draw);
    for (const causal of [false, true]) {
      const got = attentionReference(q, k, v, { ...shape, causal });
      let worst = 0;
      for (let b = 0; b < 2; b++)
        for (let h = 0; h < 4; h++)
          for (let i = 0; i < 9; i++) {
            const keys = causal ? i + 1 : 9;
            const at = (b * 9 + i) * 80 + h * 20;
            const key = (j: number) => (b * 9 + j) * 40 + (h >> 1) * 20;
            const scores = Array.from({ length: keys }, (_, j) => {
              let dot = 0;
              for (let c = 0; c < 20; c++) dot += q[at + c]! * k[key(j) + c]!;
              return dot * shape.scale;
            });
            const top = Math.max(...scores);
            const e = scores.map((x) => Math.exp(x - top));
            const sum = e.reduce((a, x) => a + x, 0);
            for (let c = 0; c < 20; c++) {
              const want = e.reduce((a, x, j) => a + (x / sum) * v[key(j) + c]!, 0);
              worst = Math.max(worst, Math.abs(got[at + c]! - want));
            }
          }
      expect(worst).toBeLessThan(5e-6);
    }
  });

  it('the tanh GELU and SiLU are within 1e-6 of their definitions (relative, or absolute near 0)', () => {
    let worst = 0;
    for (let x = -12; x <= 12; x += 1 / 256) {
      const gelu = 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)));
      const silu = x / (1 + Math.exp(-x));
      worst = Math.max(
        worst,
        Math.abs(geluTanhReference(x) - gelu) / Math.max(1, Math.abs(gelu)),
        Math.abs(siluReference(x) - silu) / Math.max(1, Math.abs(silu)),
      );
    }
    expect(worst).toBeLessThan(1e-6);
  });
});

describe('the committed SIMD modules', () => {
  it('are what their source compiles to (npm run build:simd writes them)', async () => {
    const fresh = await compileSimd();
    const b64 = (u: Uint8Array) => Buffer.from(u).toString('base64');
    expect(b64(fresh.plain)).toBe(SIMD_PLAIN);
    expect(b64(fresh.shared)).toBe(SIMD_SHARED);
  });

  it('hold no data: instantiating them writes nothing into the backend’s memory', () => {
    // Library code (Math.log's tables, say) would bring data segments, copied into the imported
    // memory, over the backend's tensors, at every instantiation.
    for (const b64 of [SIMD_PLAIN, SIMD_SHARED]) {
      const bytes = Buffer.from(b64, 'base64');
      const sections: number[] = [];
      for (let at = 8; at < bytes.length; ) {
        sections.push(bytes[at]!);
        let size = 0;
        let shift = 0;
        let byte: number;
        at++;
        do {
          byte = bytes[at++]!;
          size |= (byte & 0x7f) << shift;
          shift += 7;
        } while (byte & 0x80);
        at += size;
      }
      expect(sections).toContain(10); // the code
      expect(sections).not.toContain(11); // no data
    }
  });
});
