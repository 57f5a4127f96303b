// What the layer-level tests of SparseGPT and GPTQ share: correlated calibration inputs, their Gram
// matrix, a layer's output error, an inverse without Cholesky, and torch.round written out for the tests' direct readings of the
// reference code. Test support only; nothing in the product imports it.
import { randomArray } from '../model/tiny-models';

/** Correlated calibration inputs [tokens, inF] with features of very different scales. */
export function calibration(tokens: number, inF: number, seed: number): Float32Array {
  const z = randomArray(tokens * inF, seed);
  const x = new Float32Array(tokens * inF);
  for (let t = 0; t < tokens; t++) {
    for (let j = 0; j < inF; j++) {
      const mix = z[t * inF + j] + 0.8 * z[t * inF + ((j + 1) % inF)] + 0.5 * z[t * inF + ((j + 3) % inF)];
      x[t * inF + j] = mix * (1 + (j % 5));
    }
  }
  return x;
}

/** Σ over tokens of x·xᵀ, [inF, inF]. */
export function gramOf(x: Float32Array, tokens: number, inF: number): Float64Array {
  const g = new Float64Array(inF * inF);
  for (let t = 0; t < tokens; t++)
    for (let i = 0; i < inF; i++) {
      const xi = x[t * inF + i];
      for (let j = 0; j < inF; j++) g[i * inF + j] += xi * x[t * inF + j];
    }
  return g;
}

/** ‖(W − Ŵ)X‖² over the calibration tokens, W as [out, in] rows. */
export function outputError(w: Float32Array, wHat: Float32Array, x: Float32Array, out: number, inF: number): number {
  const tokens = x.length / inF;
  let e = 0;
  for (let t = 0; t < tokens; t++) {
    for (let o = 0; o < out; o++) {
      let d = 0;
      for (let j = 0; j < inF; j++) d += (w[o * inF + j] - wHat[o * inF + j]) * x[t * inF + j];
      e += d * d;
    }
  }
  return e;
}

/** torch.round: to nearest, halves to even. */
export function torchRound(x: number): number {
  const f = Math.floor(x);
  const diff = x - f;
  if (diff < 0.5) return f;
  if (diff > 0.5) return f + 1;
  return f % 2 === 0 ? f : f + 1;
}

/** Gauss–Jordan inverse with partial pivoting (no Cholesky), for the explicit-inverse readings. */
export function gaussJordanInverse(a: number[][]): number[][] {
  const n = a.length;
  const m = a.map((row, i) => [...row, ...Array.from({ length: n }, (_, j) => (i === j ? 1 : 0))]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(m[r][c]) > Math.abs(m[p][c])) p = r;
    [m[c], m[p]] = [m[p], m[c]];
    const pv = m[c][c];
    for (let j = 0; j < 2 * n; j++) m[c][j] /= pv;
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = m[r][c];
      if (f !== 0) for (let j = 0; j < 2 * n; j++) m[r][j] -= f * m[c][j];
    }
  }
  return m.map((row) => row.slice(n));
}
