// One block's detail: a linear's scores, threshold, mask and weights, and the blocks' sensitivity.
import { useEffect, useRef } from 'react';
import type { LayerDetail as Detail, ModelSummary } from '../../workers/client';
import { formatPercent, formatValue } from '../format';
import {
  keptText,
  quantGridCaption,
  quantPointText,
  quantSharesText,
  ROLE_NAMES,
  thresholdMarkers,
  thresholdText,
  type Marker,
} from '../layer-detail-format';
import { blockFacts, OUTLIERS_HELP, outliersText, reachedText } from '../layer-sparsity';
import { blockRoles, detailTarget, sensitivityKey, shownOf, useWorkbench, workbenchStore } from '../store';
import { DetailHistogram, HistogramLegend, NARROW } from './DetailHistogram';
import { MaskImage } from './MaskImage';
import { ProgressBar } from './ProgressBar';
import { SensitivityChart } from './SensitivityChart';

/**
 * One block's detail, opened from the model map (the block is `config.layer`, so the link keeps it):
 * a linear of the block picked inside; its scores' histogram with the threshold the current mask
 * implies, the mask as an image, its weights' histogram, and on request the blocks' sensitivity.
 * Escape or Close closes it.
 */
export function LayerDetail({ summary }: { summary: ModelSummary }) {
  const layer = useWorkbench((s) => s.config.layer);
  const targetKey = useWorkbench((s) => detailTarget(s)?.key ?? null);
  const role = useWorkbench((s) => detailTarget(s)?.request.role ?? null);
  const modelKey = useWorkbench((s) => s.model?.key ?? null);
  const view = useWorkbench((s) => s.layerDetail);
  const close = useWorkbench((s) => s.closeLayerDetail);
  const heading = useRef<HTMLHeadingElement>(null);

  // biome-ignore lint/correctness/useExhaustiveDependencies: reload whenever the layer or configuration shown changes
  useEffect(() => {
    workbenchStore.getState().loadLayerDetail();
  }, [targetKey]);

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape' && !e.defaultPrevented) close();
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, [close]);

  // Opened by a click or key (not by a link at page load): bring it into view, focus on its title,
  // and give focus back to the opener when it closes.
  useEffect(() => {
    const opener = document.activeElement;
    if (!(opener instanceof HTMLElement) || opener === document.body) return;
    heading.current?.focus();
    heading.current?.scrollIntoView({ block: 'nearest' });
    return () => {
      if (opener.isConnected) opener.focus();
    };
  }, []);

  if (layer === null) return null;
  const title = `Block ${layer + 1}`;
  const head = (name: string | null) => (
    <div className="card-head">
      <h2 id="detail-title" ref={heading} tabIndex={-1}>
        {title} detail{name ? ` · ${name}` : ''}
      </h2>
      <button type="button" className="button small quiet" onClick={close}>
        Close
      </button>
    </div>
  );
  if (layer >= summary.layers || !role) {
    return (
      <section className="card layer-detail" aria-labelledby="detail-title">
        {head(null)}
        <p className="error-text">
          This model has no block {layer + 1}: it has blocks 1 to {summary.layers}.
        </p>
      </section>
    );
  }
  const last = shownOf(view);
  const shown =
    last && last.value.modelKey === modelKey && last.value.request.layer === layer && last.value.request.role === role
      ? { key: last.key, ...last.value }
      : null;
  const running = view.status === 'running' && view.key === targetKey ? view : null;
  const error = view.status === 'failed' && view.key === targetKey ? view : null;
  return (
    <section className="card layer-detail" aria-labelledby="detail-title">
      {head(ROLE_NAMES[role])}
      <RolePicker summary={summary} layer={layer} role={role} />
      {running && (
        <div className="progress-row detail-progress">
          <span className="measuring-label">{running.progress.label}…</span>
          <ProgressBar label="Layer detail progress" fraction={running.progress.fraction} />
        </div>
      )}
      {error && (
        <p className="empty">
          <span className="error-text">The layer detail failed: {error.message}</span>
          <button
            type="button"
            className="button small quiet"
            onClick={() => workbenchStore.getState().loadLayerDetail(true)}
          >
            Try again
          </button>
        </p>
      )}
      {shown && (
        <DetailBody
          detail={shown.detail}
          method={shown.request.method}
          recipeKey={shown.request.recipe && JSON.stringify(shown.request.recipe)}
          stale={shown.key !== targetKey}
        />
      )}
      <Sensitivity layer={layer} current={shown?.detail.blockSparsity ?? null} />
    </section>
  );
}

function RolePicker({ summary, layer, role }: { summary: ModelSummary; layer: number; role: string }) {
  const setRole = useWorkbench((s) => s.setDetailRole);
  return (
    <div className="detail-roles" role="group" aria-label="Linear layer">
      {blockRoles(summary, layer).map((r) => (
        <button
          key={r}
          type="button"
          className="button small quiet"
          aria-pressed={r === role}
          onClick={() => setRole(r)}
        >
          {ROLE_NAMES[r]}
        </button>
      ))}
    </div>
  );
}

/** The block's facts from the measured report when it is of the configuration the detail shows. */
function useBlockFact(layer: number, recipeKey: string | null) {
  const report = useWorkbench((s) =>
    s.current.status === 'done' && s.current.key === recipeKey ? s.current.value.report : null,
  );
  const layers = useWorkbench((s) => s.model?.summary.layers ?? 0);
  return blockFacts(report, layers)?.[layer] ?? null;
}

function DetailBody({
  detail,
  method,
  recipeKey,
  stale,
}: {
  detail: Detail;
  method: string;
  /** The configuration whose mask is shown (null: dense). */
  recipeKey: string | null;
  stale: boolean;
}) {
  const fact = useBlockFact(detail.layer, recipeKey);
  const markers = thresholdMarkers(detail.threshold);
  // Magnitude's threshold on |w| is a pair of lines ±t on the signed weights.
  const t = method === 'magnitude' && detail.threshold.kind === 'single' ? detail.threshold.value : null;
  const weightMarkers: Marker[] =
    t === null
      ? []
      : [
          { value: -t, label: '', style: 'threshold' },
          { value: t, label: `±${formatValue(t, 4)}`, style: 'threshold' },
        ];
  const weightLegend: Marker[] =
    t === null ? [] : [{ value: t, label: `threshold ±${formatValue(t, 4)}`, style: 'threshold' }];
  const name = `${ROLE_NAMES[detail.role]} of block ${detail.layer + 1}`;
  const q = detail.quantization;
  const shares = q && quantSharesText(q);
  return (
    <div className={stale ? 'detail-body stale' : 'detail-body'} aria-busy={stale}>
      <dl className="figures detail-figures">
        <div className="figure">
          <dt>Weights</dt>
          <dd>{keptText(detail.kept, detail.removed)}</dd>
        </div>
        <div className="figure">
          <dt>Block {detail.layer + 1} pruned</dt>
          <dd>
            {fact ? reachedText(fact) : formatPercent(detail.blockSparsity)}
            {fact?.outliers != null && (
              <span className="fact-detail" title={OUTLIERS_HELP}>
                {' '}
                · {outliersText(fact.outliers)}
              </span>
            )}
          </dd>
        </div>
        <div className="figure wide">
          <dt>Threshold</dt>
          <dd className="detail-threshold">{thresholdText(detail.threshold)}</dd>
        </div>
      </dl>
      <p className="card-note">
        <code>{detail.weight}</code> · {detail.inFeatures} inputs → {detail.outFeatures} outputs
      </p>
      {detail.notes.length > 0 && (
        <ul className="detail-notes">
          {detail.notes.map((n) => (
            <li key={n}>{n}</li>
          ))}
        </ul>
      )}
      <figure className="chart detail-chart">
        <figcaption>Scores: {detail.scoreName}, log scale</figcaption>
        <DetailHistogram
          histogram={detail.scores}
          xTitle={`Score ${detail.scoreName}`}
          markers={markers}
          label={`Histogram of the scores of the ${name}: ${keptText(detail.kept, detail.removed)}. Threshold: ${thresholdText(detail.threshold)}`}
        />
        <HistogramLegend markers={markers} />
      </figure>
      <div className="detail-pair">
        <figure className="detail-mask">
          <figcaption>Mask: rows are outputs, columns inputs</figcaption>
          <MaskImage
            mask={detail.mask}
            label={`Mask of the ${name}: ${keptText(detail.kept, detail.removed)}; rows are its ${detail.outFeatures} outputs, columns its ${detail.inFeatures} inputs, removed weights black`}
          />
        </figure>
        <figure className="chart detail-chart">
          <figcaption>Weights w{q && ` · ${quantGridCaption(q)}`}</figcaption>
          <DetailHistogram
            frame={NARROW}
            histogram={detail.weights}
            xTitle="Weight w"
            markers={weightMarkers}
            label={`Histogram of the weights of the ${name}, kept and removed${q ? `, with the ${quantGridCaption(q)}` : ''}`}
            grid={q && { points: q.points, title: (code) => quantPointText(q, code) }}
          />
          <HistogramLegend markers={weightLegend} grid={q && `${q.bits}-bit grid points (${q.points.length})`} />
          {q && (
            <p className="card-note quant-shares" data-testid="quant-shares">
              {shares
                ? `Kept weights at each code, all rows and groups: ${shares}.`
                : `${q.points.length} codes: too many to list; hover a tick for its share of the kept weights.`}
            </p>
          )}
        </figure>
      </div>
    </div>
  );
}

function Sensitivity({ layer, current }: { layer: number; current: number | null }) {
  const key = useWorkbench(sensitivityKey);
  const view = useWorkbench((s) => s.sensitivity);
  const compute = useWorkbench((s) => s.computeSensitivity);
  const cancel = useWorkbench((s) => s.cancelSensitivity);
  const last = shownOf(view);
  const shown = last?.key === key ? last.value : null;
  const running = view.status === 'running' && view.key === key ? view : null;
  return (
    <section className="detail-sensitivity" aria-labelledby="sensitivity-title">
      <h3 id="sensitivity-title">Sensitivity</h3>
      {shown ? (
        <>
          <p className="card-note">
            Each block pruned alone by {shown.method} at 0–90%, loss on {shown.calibration}.
          </p>
          <figure className="chart">
            <SensitivityChart curves={shown.curves} layer={layer} current={current ?? 0} />
          </figure>
        </>
      ) : running ? (
        <div className="progress-row">
          <span className="measuring-label">{running.progress.label}…</span>
          <ProgressBar label="Sensitivity progress" fraction={running.progress.fraction} />
          <button type="button" className="button small" onClick={cancel}>
            Cancel
          </button>
        </div>
      ) : (
        <div className="empty">
          <span className="card-note">
            {view.status === 'cancelled' ? 'Cancelled. ' : ''}
            {view.status === 'failed' ? (
              <span className="error-text">The sensitivity failed: {view.message} </span>
            ) : null}
            Prunes each block alone at 10–90% and measures the loss on the calibration data: slow.
          </span>
          <button type="button" className="button small" onClick={compute}>
            Compute sensitivity
          </button>
        </div>
      )}
    </section>
  );
}
