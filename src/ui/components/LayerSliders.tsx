import { useId } from 'react';
import type { ModelSummary } from '../../workers/client';
import { formatPercent } from '../format';
import { meanSparsity, perLayerBlocked, shownLayerSparsity, unlockedValues } from '../layer-sparsity';
import { MAX_SPARSITY } from '../share';
import { useWorkbench } from '../store';

const HELP =
  'Per-layer sparsity: locked, every block follows the global slider through the allocation; unlocked, each block gets its own sparsity (non-uniform layer-wise sparsity, as OWL — Yin et al., 2024 — chooses automatically). Each change re-prunes and re-measures.';

/**
 * One sparsity slider per block, locked to the global sparsity and allocation or free. Free values
 * go into the share link; every change re-prunes through the store, as the global slider does.
 */
export function LayerSliders({ summary }: { summary: ModelSummary }) {
  const config = useWorkbench((s) => s.config);
  const setConfig = useWorkbench((s) => s.setConfig);
  const report = useWorkbench((s) => (s.current.status === 'done' ? s.current.report : null));
  const id = useId();
  const blocked = perLayerBlocked(config);
  const locked = config.layerSparsity === null;
  const shown = shownLayerSparsity(config, summary.layers, report);
  const set = (layer: number, value: number) =>
    setConfig({ layerSparsity: shown.map((v, i) => (i === layer ? value : v)) });

  return (
    <fieldset className="layer-sliders" disabled={blocked !== null} aria-describedby={`${id}-help`}>
      <legend>Per-layer sparsity</legend>
      {blocked ? (
        <p className="note layer-blocked">{blocked}</p>
      ) : (
        <label className="lock-toggle">
          <input
            type="checkbox"
            checked={locked}
            onChange={(e) => setConfig({ layerSparsity: e.target.checked ? null : unlockedValues(shown) })}
          />
          Lock to global
        </label>
      )}
      {/* Shown on the legend's hover and the lock's focus, not the sliders': it would cover the metric they change. */}
      <p className="hint" id={`${id}-help`} role="tooltip">
        {HELP}
      </p>
      <ol className="layer-slider-list">
        {shown.map((v, layer) => (
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
              aria-valuetext={formatPercent(v, 0)}
              onChange={(e) => set(layer, Number(e.target.value))}
            />
            <output htmlFor={`${id}-${layer}`} className="slider-value">
              {formatPercent(v, 0)}
            </output>
          </li>
        ))}
      </ol>
      {!locked && !blocked && (
        <p className="note">
          Mean over the blocks: {formatPercent(meanSparsity(shown), 1)} (the global slider is set per layer while
          unlocked).
        </p>
      )}
    </fieldset>
  );
}
