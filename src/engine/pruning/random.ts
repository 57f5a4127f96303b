// Random pruning: the baseline every method must beat (Liu et al. 2022, "The Unreasonable
// Effectiveness of Random Pruning"). Scores are uniform in [0, 1) from a seeded generator, so a
// shared configuration reproduces the same mask.
export function randomScores(n: number, seed: number): Float32Array {
  let a = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    // mulberry32
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  return out;
}
