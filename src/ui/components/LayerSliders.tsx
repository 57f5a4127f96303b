// The per-layer sparsity sliders, with what the measured masks removed from each block.
import { useId } from 'react';
import { allocationEntry, citeShort } from '../../engine/pruning/catalogue';
import type { ModelSummary } from '../../workers/client';
import { sentence } from '../choices';
import { formatPercent } from '../format';
import {
  blockFacts,
  meanSparsity,
  OUTLIERS_HELP,
  outliersText,
  reachedText,
  searchText,
  shownLayerSparsity,
  unlockedValues,
} from '../layer-sparsity';
import { MAX_SPARSITY } from '../share';
import { useWorkbench } from '../store';

const OWL_PAPER = allocationEntry('owl').paper;
const HELP = `Per-layer sparsity: locked, every block follows the global slider through the allocation, and each shows what its masks removed; unlocked, each block gets its own sparsity (non-uniform layer-wise sparsity, as OWL${OWL_PAPER ? ` — ${citeShort(OWL_PAPER)} —` : ''} chooses automatically), which replaces the allocation. Each change re-prunes and re-measures.`;

/**
 * One sparsity slider per block, locked to the global sparsity and allocation or free. Free values
 * go into the share link; every change re-prunes through the store, as the global slider does.
 * Each block shows what the measured masks removed (and what was asked, where that differs), under
 * OWL its outlier ratio, and under EvoPress what the search that found the split reached.
 */
export function LayerSliders({ summary, refused }: { summary: ModelSummary; refused: string | null }) {
  const config = useWorkbench((s) => s.config);
  const setConfig = useWorkbench((s) => s.setConfig);
  const measured = useWorkbench((s) => (s.current.status === 'done' ? s.current.value : null));
  const report = measured?.report ?? null;
  const id = useId();
  const locked = config.layerSparsity === null;
  const searched = locked ? searchText(report, measured?.search) : null;
  const shown = shownLayerSparsity(config, summary.layers, report);
  const facts = blockFacts(report, summary.layers);
  const set = (layer: number, value: number) =>
    setConfig({ layerSparsity: shown.map((v, i) => (i === layer ? value : v)) });

  return (
    <fieldset className="layer-sliders" disabled={refused !== null} aria-describedby={`${id}-help`}>
      <legend>Per-layer sparsity</legend>
      {refused ? (
        <p className="note layer-blocked">{sentence(refused)}</p>
      ) : (
        <label className="lock-toggle">
          <input
            type="checkbox"
            checked={locked}
            // Values set by hand replace the allocation: unlocking starts from what it gave each block.
            onChange={(e) =>
              setConfig(
                e.target.checked
                  ? { layerSparsity: null }
                  : { layerSparsity: unlockedValues(shown), allocation: 'uniform' },
              )
            }
          />
          Lock to global
        </label>
      )}
      {/* Shown on the legend's hover and the lock's focus, not the sliders': it would cover the metric they change. */}
      <p className="hint" id={`${id}-help`} role="tooltip">
        {HELP}
      </p>
      {searched && (
        <p className="note" data-testid="search-result">
          {searched}
        </p>
      )}
      <ol className="layer-slider-list">
        {shown.map((v, layer) => {
          const fact = facts?.[layer];
          const text = fact?.target != null ? reachedText(fact) : formatPercent(v, 0);
          return (
            <li key={layer} className="slider-row">
              <label htmlFor={`${id}-${layer}`}>Block {layer + 1}</label>
              <input
                id={`${id}-${layer}`}
                type="range"
                min={0}
                max={MAX_SPARSITY}
                step={0.01}
                value={v}
                disabled={locked}
                aria-label={`Block ${layer + 1} sparsity`}
                aria-valuetext={text}
                onChange={(e) => set(layer, Number(e.target.value))}
              />
              <output htmlFor={`${id}-${layer}`} className="slider-value">
                {text}
              </output>
              {fact?.outliers != null && (
                <span className="layer-outliers" title={OUTLIERS_HELP}>
                  {outliersText(fact.outliers)}
                </span>
              )}
            </li>
          );
        })}
      </ol>
      {!locked && !refused && (
        <p className="note">
          Mean over the blocks: {formatPercent(meanSparsity(shown), 1)} (the global slider is set per layer while
          unlocked).
        </p>
      )}
    </fieldset>
  );
}
