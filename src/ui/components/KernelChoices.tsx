// Which product each pruned layer ran with in the last evaluation (WebGPU only): a one-line count
// and, on request, the table of every layer's measured candidates. The choice is the engine's
// (engine/gpu/sparse-linears.ts); this only shows it.
import type { LinearChoice } from '../../workers/api';
import { describeKernels, kernelRows } from '../kernel-format';

export function KernelChoices({ choices }: { choices: LinearChoice[] }) {
  const rows = kernelRows(choices);
  return (
    <details className="kernel-choices" data-testid="kernel-choices">
      <summary className="note">{describeKernels(choices)}</summary>
      <p className="note">
        Each layer's product was timed on this device in every format that fits its mask; the fastest ran.
      </p>
      <table className="kernel-table">
        <thead>
          <tr>
            <th scope="col">Layer</th>
            <th scope="col">Tokens</th>
            <th scope="col">Kept</th>
            <th scope="col">Ran as</th>
            <th scope="col">Measured per product</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={`${r.layer}|${r.tokens}`}>
              <td>{r.layer}</td>
              <td>{r.tokens}</td>
              <td>{r.kept}</td>
              <td>{r.ran}</td>
              <td>{r.timings}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </details>
  );
}
