import { useMemo } from 'react';
import type { ModelSummary } from '../../workers/client';
import { shareScale, type ShareScale } from '../colors';
import { formatCount, formatFlops, formatPercent } from '../format';
import { modelMapData, type MapCell, type MapRow } from '../model-map';

/**
 * The model's structure, input at the top: embeddings, one row per block (its attention heads and
 * its FFN as cells), the output head. Cells are coloured by their share of the FLOPs.
 */
export function ModelMap({ summary }: { summary: ModelSummary }) {
  const data = useMemo(() => modelMapData(summary), [summary]);
  const scale = useMemo(() => shareScale(data.maxCellShare), [data.maxCellShare]);
  return (
    <section className="card model-map" aria-labelledby="map-title">
      <div className="card-head">
        <h2 id="map-title">Model map</h2>
        <Legend scale={scale} />
      </div>
      <ol className="map-rows" aria-label="Layers, from input to output">
        {data.rows.map((row) => (
          <li key={row.id}>
            <Row row={row} scale={scale} />
          </li>
        ))}
      </ol>
    </section>
  );
}

function Row({ row, scale }: { row: MapRow; scale: ShareScale }) {
  const titleId = `map-${row.id}`;
  const heads = row.cells.filter((c) => c.kind === 'head');
  const others = row.cells.filter((c) => c.kind !== 'head');
  return (
    <div role="group" aria-labelledby={titleId} className={`map-row map-${row.kind}`}>
      <div className="row-label">
        <span id={titleId} className="row-title">
          {row.title}
        </span>
        <span className="row-stats">{row.paramsNote ?? `${formatCount(row.params)} params`}</span>
        <span className="row-stats">{formatPercent(row.share)} of FLOPs</span>
      </div>
      <div className="row-cells">
        {heads.length > 0 && (
          <ul className="heads" aria-label={`Attention heads of ${row.title.toLowerCase()}`}>
            {heads.map((c) => (
              <li key={c.id}>
                <Cell cell={c} scale={scale} />
              </li>
            ))}
          </ul>
        )}
        {others.map((c) => (
          <Cell key={c.id} cell={c} scale={scale} />
        ))}
      </div>
    </div>
  );
}

function Cell({ cell, scale }: { cell: MapCell; scale: ShareScale }) {
  const tip = `${cell.description}. ${formatFlops(cell.flops)} per example, ${formatPercent(cell.share)} of the model's FLOPs.`;
  return (
    <div className={`cell cell-${cell.kind}`} style={{ background: scale.fill(cell.share), color: scale.ink(cell.share) }} title={tip}>
      <span className="cell-label">{cell.label}</span>
      <span className="cell-size">{cell.size}</span>
      <span className="visually-hidden">. {tip}</span>
    </div>
  );
}

function Legend({ scale }: { scale: ShareScale }) {
  const stops = Array.from({ length: 11 }, (_, i) => `${scale.fill((i / 10) * scale.max)} ${i * 10}%`).join(', ');
  return (
    <figure className="legend" aria-label={`Colour: share of the model's FLOPs per example, from 0% (pale) to ${formatPercent(scale.max)} (dark)`}>
      <figcaption>Share of FLOPs</figcaption>
      <div className="legend-ramp" style={{ background: `linear-gradient(to right, ${stops})` }} aria-hidden="true" />
      <div className="legend-ticks" aria-hidden="true">
        <span>0%</span>
        <span>{formatPercent(scale.max / 2)}</span>
        <span>{formatPercent(scale.max)}</span>
      </div>
    </figure>
  );
}
