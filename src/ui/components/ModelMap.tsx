// The model map: the model's structure coloured by FLOPs, importance or pruned share, with each
// block's measured facts.
import { useEffect, useId, useMemo } from 'react';
import type { ModelSummary } from '../../workers/client';
import { importanceScale, prunedScale, shareScale, UNSCORED, type ShareScale } from '../colors';
import { formatCount, formatPercent } from '../format';
import { blockFacts, OUTLIERS_HELP, outliersText, reachedText } from '../layer-sparsity';
import { importanceKey, shownShares } from '../map-slice';
import {
  cellTip,
  colourValue,
  modelMapData,
  overlayMap,
  type MapCell,
  type MapColour,
  type MapRow,
} from '../model-map';
import { useWorkbench } from '../store';

const COLOURINGS: { value: MapColour; label: string }[] = [
  { value: 'flops', label: 'FLOPs share' },
  { value: 'importance', label: 'Importance' },
  { value: 'pruned', label: 'Pruned share' },
];

/**
 * The model's structure, input at the top: embeddings, one row per block (its attention heads and
 * its FFN as cells), the output head. Cells are coloured by their share of the FLOPs, their
 * importance on calibration data, or the share of them the current configuration prunes; a bar
 * along each cell's foot shows that pruned share whatever the colouring. Each block opens its detail.
 */
export function ModelMap({ summary }: { summary: ModelSummary }) {
  const mode = useWorkbench((s) => s.mapColour);
  const importance = useWorkbench((s) => s.mapImportance);
  const shares = useWorkbench(shownShares);
  const current = useWorkbench((s) => s.current);
  const impKey = useWorkbench(importanceKey);
  const loadPrunedShares = useWorkbench((s) => s.loadPrunedShares);
  const loadMapImportance = useWorkbench((s) => s.loadMapImportance);

  // biome-ignore lint/correctness/useExhaustiveDependencies: the shares follow each new result
  useEffect(() => loadPrunedShares(), [current, loadPrunedShares]);
  // biome-ignore lint/correctness/useExhaustiveDependencies: the importance follows the model and calibration set
  useEffect(() => {
    if (mode === 'importance') loadMapImportance();
  }, [mode, impKey, loadMapImportance]);

  const base = useMemo(() => modelMapData(summary), [summary]);
  const scores = importance.status === 'done' && importance.key === impKey ? importance.value : null;
  const facts = useMemo(
    () => blockFacts(current.status === 'done' ? current.value.report : null, summary.layers),
    [current, summary.layers],
  );
  const data = useMemo(() => overlayMap(base, scores, shares, facts), [base, scores, shares, facts]);
  const scale = useMemo(
    () =>
      mode === 'flops' ? shareScale(data.maxCellShare) : mode === 'importance' ? importanceScale() : prunedScale(),
    [mode, data.maxCellShare],
  );
  return (
    <section className="card model-map" aria-labelledby="map-title">
      <div className="card-head">
        <h2 id="map-title">Model map</h2>
        <ColourSwitch />
      </div>
      <div className="map-keys">
        <Legend mode={mode} scale={scale} />
        {shares && <BarKey />}
        <MapStatus mode={mode} hasShares={!!shares} />
      </div>
      <ol className="map-rows" aria-label="Layers, from input to output">
        {data.rows.map((row) => (
          <li key={row.id}>
            <Row row={row} mode={mode} scale={scale} />
          </li>
        ))}
      </ol>
    </section>
  );
}

function ColourSwitch() {
  const mode = useWorkbench((s) => s.mapColour);
  const setMapColour = useWorkbench((s) => s.setMapColour);
  const name = useId();
  return (
    <div className="segmented" role="radiogroup" aria-label="Colour by">
      <span className="segmented-label" aria-hidden="true">
        Colour by
      </span>
      {COLOURINGS.map((c) => (
        <label key={c.value} className={mode === c.value ? 'selected' : undefined}>
          <input
            type="radio"
            name={name}
            value={c.value}
            checked={mode === c.value}
            onChange={() => setMapColour(c.value)}
          />
          {c.label}
        </label>
      ))}
    </div>
  );
}

/** What the map is waiting for, or why a colouring has nothing to show yet. */
function MapStatus({ mode, hasShares }: { mode: MapColour; hasShares: boolean }) {
  const importance = useWorkbench((s) => s.mapImportance);
  const current = useWorkbench((s) => s.current);
  const sharesError = useWorkbench((s) =>
    s.prunedShares.status === 'failed' && s.current.status === 'done' && s.prunedShares.key === s.current.key
      ? s.prunedShares.message
      : null,
  );
  const granularity = useWorkbench((s) => s.config.granularity);
  const loadMapImportance = useWorkbench((s) => s.loadMapImportance);
  let text: string | null = null;
  if (mode === 'importance' && importance.status === 'running') {
    const f = importance.progress.fraction;
    text = `${importance.progress.label}${f === null ? '' : ` · ${formatPercent(f, 0)}`}`;
  } else if (mode === 'importance' && importance.status === 'failed') {
    return (
      <p className="map-status error-text" role="status">
        Importance could not be scored: {importance.message}{' '}
        <button type="button" className="button small quiet" onClick={loadMapImportance}>
          Try again
        </button>
      </p>
    );
  } else if (sharesError) {
    return (
      <p className="map-status error-text" role="status">
        The pruned shares could not be read: {sharesError}
      </p>
    );
  } else if (mode === 'pruned' && !hasShares) {
    text =
      current.status === 'running'
        ? 'Measuring the configuration…'
        : current.status === 'done'
          ? 'Reading the pruned shares…'
          : 'Nothing is pruned: the dense model.';
  } else if (hasShares && granularity === 'tokens') {
    text = 'Token pruning removes no weights: it skips tokens, so every share is 0%.';
  }
  return (
    <p className="map-status" role="status">
      {text}
    </p>
  );
}

function Row({ row, mode, scale }: { row: MapRow; mode: MapColour; scale: ShareScale }) {
  const titleId = `map-${row.id}`;
  const heads = row.cells.filter((c) => c.kind === 'head');
  const others = row.cells.filter((c) => c.kind !== 'head');
  return (
    <div role="group" aria-labelledby={titleId} className={`map-row map-${row.kind}`}>
      <div className="row-label">
        <span className="row-head">
          <span id={titleId} className="row-title">
            {row.title}
          </span>
          {row.layer !== null && <DetailButton layer={row.layer} title={row.title} />}
        </span>
        <span className="row-stats">{row.paramsNote ?? `${formatCount(row.params)} params`}</span>
        <span className="row-stats">{formatPercent(row.share)} of FLOPs</span>
        {row.pruned !== null && (
          <span className={`row-stats${row.pruned.reached > 0 ? ' row-pruned' : ''}`}>
            {reachedText(row.pruned)} pruned
          </span>
        )}
        {row.pruned?.outliers != null && (
          <span className="row-stats" title={OUTLIERS_HELP}>
            {outliersText(row.pruned.outliers)}
          </span>
        )}
      </div>
      <div className="row-cells">
        {heads.length > 0 && (
          <ul className="heads" aria-label={`Attention heads of ${row.title.toLowerCase()}`}>
            {groupsOf(heads).map((group, g) =>
              group.length === 1 || heads[0].group === undefined ? (
                group.map((c) => (
                  <li key={c.id}>
                    <Cell cell={c} mode={mode} scale={scale} />
                  </li>
                ))
              ) : (
                // Grouped-query attention: the query heads that share one key/value head, framed together.
                <li key={`g${g}`} className="kv-group">
                  <ul aria-label={`Key/value head ${g + 1}: query heads sharing it`}>
                    {group.map((c) => (
                      <li key={c.id}>
                        <Cell cell={c} mode={mode} scale={scale} />
                      </li>
                    ))}
                  </ul>
                </li>
              ),
            )}
          </ul>
        )}
        {others.map((c) => (
          <Cell key={c.id} cell={c} mode={mode} scale={scale} />
        ))}
      </div>
    </div>
  );
}

/** Head cells by key/value group, in order (one group each without grouped-query attention). */
function groupsOf(heads: MapCell[]): MapCell[][] {
  const groups: MapCell[][] = [];
  for (const c of heads) {
    const g = c.group ?? groups.length;
    if (!groups[g]) groups[g] = [];
    groups[g].push(c);
  }
  return groups;
}

/** Opens (or closes) the block's detail view: the selected block is part of the configuration. */
function DetailButton({ layer, title }: { layer: number; title: string }) {
  const open = useWorkbench((s) => s.config.layer === layer);
  const setConfig = useWorkbench((s) => s.setConfig);
  return (
    <button
      type="button"
      className="button small quiet row-detail"
      aria-pressed={open}
      aria-label={`${title} details`}
      onClick={() => setConfig({ layer: open ? null : layer })}
    >
      Details
    </button>
  );
}

function Cell({ cell, mode, scale }: { cell: MapCell; mode: MapColour; scale: ShareScale }) {
  const tip = cellTip(cell);
  const v = colourValue(cell, mode);
  const colours =
    v === null
      ? { background: UNSCORED.fill, color: UNSCORED.ink }
      : { background: scale.fill(v), color: scale.ink(v) };
  const bar = cell.pruned !== null && (cell.kind === 'head' || cell.kind === 'ffn');
  return (
    <div className={`cell cell-${cell.kind}`} style={colours} title={tip}>
      <span className="cell-label">{cell.label}</span>
      <span className="cell-size">{cell.size}</span>
      {bar && <span className="cell-pruned" style={{ width: `${(cell.pruned ?? 0) * 100}%` }} aria-hidden="true" />}
      <span className="visually-hidden">. {tip}</span>
    </div>
  );
}

const LEGENDS: Record<MapColour, { caption: string; describe: (max: string) => string }> = {
  flops: {
    caption: 'Share of FLOPs',
    describe: (max) => `Colour: share of the model's FLOPs per example, from 0% (pale) to ${max} (dark)`,
  },
  importance: {
    caption: 'Importance',
    describe: () =>
      'Colour: importance on calibration data — each head’s output norm relative to the largest head’s, each FFN’s summed neuron scores relative to the largest FFN’s — from 0% (pale) to 100% (dark); grey: not scored',
  },
  pruned: {
    caption: 'Share pruned',
    describe: () =>
      'Colour: share of each head’s, FFN’s weights the current configuration prunes, from 0% (pale) to 100% (dark)',
  },
};

function Legend({ mode, scale }: { mode: MapColour; scale: ShareScale }) {
  const stops = Array.from({ length: 11 }, (_, i) => `${scale.fill((i / 10) * scale.max)} ${i * 10}%`).join(', ');
  const { caption, describe } = LEGENDS[mode];
  return (
    <figure className="legend" aria-label={describe(formatPercent(scale.max))}>
      <figcaption>
        {caption}
        {mode === 'importance' && (
          <span className="legend-note">
            , as a share of the largest of its kind ·{' '}
            <span className="unscored-swatch" style={{ background: UNSCORED.fill }} aria-hidden="true" /> not scored
          </span>
        )}
      </figcaption>
      <div className="legend-ramp" style={{ background: `linear-gradient(to right, ${stops})` }} aria-hidden="true" />
      <div className="legend-ticks" aria-hidden="true">
        <span>0%</span>
        <span>{formatPercent(scale.max / 2, mode === 'flops' ? 1 : 0)}</span>
        <span>{formatPercent(scale.max, mode === 'flops' ? 1 : 0)}</span>
      </div>
    </figure>
  );
}

/** The key to the bar along each cell's foot. */
function BarKey() {
  return (
    <figure className="bar-key" aria-label="Bar along a cell's foot: the share of its weights pruned">
      <span className="bar-key-swatch" aria-hidden="true">
        <span />
      </span>
      <figcaption>bar: share of the cell pruned</figcaption>
    </figure>
  );
}
