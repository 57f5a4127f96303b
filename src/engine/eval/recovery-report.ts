// What a recovery's report says in words, for the CLI and the page alike: how often the run went
// over its training examples, and whether the held-out metric peaked before the end. Plain: the
// page's main thread reads it.
import type { RecoveryReport } from './recovery';

const count = (n: number) => n.toLocaleString('en-US');

/** How often a run went over its examples, in words: "62.5 passes over the data". */
export const passesText = (passes: number): string =>
  passes === 1 ? 'one pass over the data' : `${passes.toFixed(passes < 10 ? 2 : 1)} passes over the data`;

/**
 * The held-out metric's peak when the run went past it and lost more than 1% of it by its end
 * (a fixed eval set: what is under that is the run's own wobble): the step, the best value and what
 * the run ended on, and a sentence saying so. A run over few examples many times learns them by
 * heart and gets worse on text or images it has not seen; the sentence says that too when the run
 * went over its examples more than once. Null when the end is the best (or within 1% of it), or a
 * cancelled run returned the best.
 */
export function pastItsPeak(r: RecoveryReport): { step: number; best: number; end: number; text: string } | null {
  if (r.aborted || r.metricCurve.length < 3) return null;
  const higher = r.before.kind === 'classifier';
  const end = r.metricCurve[r.metricCurve.length - 1];
  const peak = r.metricCurve.slice(1).reduce((b, p) => ((higher ? p.value > b.value : p.value < b.value) ? p : b));
  const lost = higher ? peak.value - end.value : end.value - peak.value;
  if (peak.step === end.step || !(lost > 0.01 * Math.abs(peak.value))) return null;
  const fmt = (v: number) => (higher ? `${(100 * v).toFixed(1)}%` : v.toFixed(3));
  const why =
    r.passes > 1
      ? ` The ${count(r.stepsDone)} updates of ${r.recovery.batchSize} went over the ${count(r.examples)} training examples ${r.passes.toFixed(1)} times: the model learns them by heart. Fewer steps, or more data, keep what it won.`
      : ' Fewer steps or a lower learning rate keep what it won.';
  return {
    step: peak.step,
    best: peak.value,
    end: end.value,
    text: `The held-out metric was best at step ${peak.step} (${fmt(peak.value)}) and ended at ${fmt(end.value)}.${why}`,
  };
}
