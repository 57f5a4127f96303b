// One row of bench:gpu's table: our kernel, TF.js WebGPU on the same device and the plain-TS
// reference, timed in the same run, and whether our result matched the reference.
export interface BenchRow {
  op: string;
  shape: string;
  oursMs: number;
  /** NaN where TF.js has no equivalent op. */
  tfjsMs: number;
  referenceMs: number;
  parity: boolean;
  /** Bytes moved, bandwidth reached, and the like. */
  note?: string;
}

const fmt = (ms: number) =>
  Number.isNaN(ms) ? '—' : ms < 0.1 ? ms.toFixed(4) : ms < 10 ? ms.toFixed(3) : ms.toFixed(1);
const ratio = (a: number, b: number) => (Number.isNaN(a) || Number.isNaN(b) ? '—' : `${(a / b).toFixed(2)}×`);

/** The rows as a Markdown table (the README's form). */
export function markdownTable(rows: BenchRow[], tfjsOp: string): string {
  const lines = [
    `| op | shape | ours ms | ${tfjsOp} ms | plain TS ms | TF.js / ours | TS / ours | parity | note |`,
    `|---|---|---|---|---|---|---|---|---|`,
    ...rows.map(
      (x) =>
        `| ${x.op} | ${x.shape} | ${fmt(x.oursMs)} | ${fmt(x.tfjsMs)} | ${fmt(x.referenceMs)} | ${ratio(x.tfjsMs, x.oursMs)} | ${ratio(x.referenceMs, x.oursMs)} | ${x.parity ? 'equal' : 'DIFFERENT'} | ${x.note ?? ''} |`,
    ),
  ];
  return lines.join('\n');
}
