// Random pruning: the baseline every method must beat (Liu et al. 2022, "The Unreasonable
// Effectiveness of Random Pruning"). Scores are uniform in [0, 1) from a seeded generator, so a
// shared configuration reproduces the same mask.

/** mulberry32: small, fast, the same sequence on every machine for a seed; its state can be kept and resumed. */
export class Mulberry32 {
  constructor(public state: number) {
    this.state = state >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Uniform integer in [a, b], both included (Python's random.randint). */
  int(a: number, b: number): number {
    return a + Math.floor(this.next() * (b - a + 1));
  }
}

export function randomScores(n: number, seed: number): Float32Array {
  const g = new Mulberry32(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = g.next();
  return out;
}
