import type { ModelSummary } from '../../workers/client';
import { formatBytes } from '../format';

/** What the page does, and does not, with a model too big for the tab whole. */
export function StreamedNotice({ streamed }: { streamed: NonNullable<ModelSummary['streamed']> }) {
  return (
    <section className="card" aria-labelledby="streamed-title">
      <div className="card-head">
        <h2 id="streamed-title">Read a block at a time</h2>
        <span className="card-note">
          {formatBytes(streamed.whole)} whole, over this tab’s {formatBytes(streamed.budget)}
        </span>
      </div>
      <p>
        This model would take about {formatBytes(streamed.whole)} of memory whole. The workbench reads it from your
        files one block at a time instead, holding about {formatBytes(streamed.blockAtATime)}: each measurement, prune,
        sweep point and export is one pass over the files, calibrating each block on what the blocks before it hand on,
        so a change of the sliders takes as long as that pass.
      </p>
      <p className="card-note">
        The model map, the layer detail and the inspection of inputs need every weight at once and are not shown;
        choices that rank across the whole model (a global scope, OWL, the sensitivity allocation, gradients, structured
        removal) are ruled out in the controls. An export is written into this browser’s storage as it is pruned, then
        downloaded file by file. Add <code>?memory-budget=8GB</code> to the address to hold larger models whole on a
        machine with the memory.
      </p>
    </section>
  );
}
