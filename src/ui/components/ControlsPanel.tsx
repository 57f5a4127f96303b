import { useId, type ReactNode } from 'react';
import type { ModelSummary } from '../../workers/client';
import { formatBytes, formatCount, formatFlops, formatPercent, metricDisplay } from '../format';
import { amountOf, isStructured, metricValue, useWorkbench } from '../store';
import { ALLOCATIONS, CALIB_SOURCES, MAX_SPARSITY, METHODS, type Granularity, type ShareState } from '../share';
import { JobProgress } from './JobProgress';
import { LayerSliders } from './LayerSliders';
import { freeLayerSparsity } from '../layer-sparsity';
import { describeEstimate, describeTimes } from '../estimate';
import { KernelChoices } from './KernelChoices';

const METHOD_HELP: Record<ShareState['method'], string> = {
  magnitude: 'Magnitude: drop the smallest |w| (Han et al., 2015, "Learning both Weights and Connections").',
  random:
    'Random: drop weights at random, a floor to compare against (Frankle & Carbin, 2019, lottery-ticket baselines).',
  wanda: 'Wanda: |w| × ‖x‖ of its input over calibration data, compared within each output row (Sun et al., 2023).',
  sparsegpt:
    'SparseGPT: second-order pruning that updates the kept weights to repair the error (Frantar & Alistarh, 2023).',
  taylor: 'Taylor: first-order importance |w · ∂L/∂w| on calibration data (Molchanov et al., 2019).',
};

const GRANULARITY_HELP: Record<Granularity, string> = {
  unstructured: 'Unstructured: any single weight may go (Han et al., 2015; LeCun et al., 1990 "Optimal Brain Damage").',
  nm: '2:4 semi-structured: at most 2 of every 4 consecutive weights kept, what sparse tensor cores run (Mishra et al., 2021).',
  heads: 'Heads: remove whole attention heads (Michel et al., 2019, "Are Sixteen Heads Really Better than One?").',
  neurons: 'Neurons: remove FFN intermediate units (Ma et al., 2023, "LLM-Pruner").',
  blocks:
    'Blocks: drop whole transformer blocks whose input and output are most alike (Gromov et al., 2024, "The Unreasonable Ineffectiveness of the Deeper Layers").',
  sublayers:
    'Sublayers: drop attention or FFN sublayers separately (Siddiqui et al., 2024; Men et al., 2024 "ShortGPT").',
  tokens:
    'Tokens: keep only the most attended tokens at each block (Rao et al., 2021 "DynamicViT"; Bolya et al., 2023 "ToMe").',
};

const GRANULARITY_NAMES: Record<Granularity, string> = {
  unstructured: 'Unstructured',
  nm: '2:4 (N:M)',
  heads: 'Attention heads',
  neurons: 'FFN neurons',
  blocks: 'Blocks',
  sublayers: 'Sublayers',
  tokens: 'Tokens',
};

const ALLOCATION_HELP =
  'Layer-wise allocation: uniform (same sparsity per block), OWL (more sparsity where fewer outlier activations; Yin et al., 2024) or sensitivity (from per-block sensitivity curves; Frantar & Alistarh 2022, "OBC").';
const CALIB_HELP =
  'Calibration data for Wanda, SparseGPT, Taylor, OWL and the structured scores: training examples, held-out examples, or random inputs (Williams & Aletras, 2024, "On the impact of calibration data in post-training quantization and pruning").';
const SPARSITY_HELP =
  'Global sparsity: the share of block weights (or of the chosen structures) removed. Arrow keys move it by 5%; every change re-prunes and re-measures, cancelling the run for a stale value (Zhu & Gupta, 2017, "To prune, or not to prune").';
const TOKEN_HELP =
  'Token keep ratio: the share of tokens each block from block 2 on keeps (Rao et al., 2021 "DynamicViT").';
const SCOPE_HELP =
  'Scope: compare scores within each layer, or across all layers at once (global; Blalock et al., 2020, "What is the State of Neural Network Pruning?").';

function Control({
  label,
  help,
  children,
}: {
  label: string;
  help: string;
  children: (ids: { id: string; hint: string }) => ReactNode;
}) {
  const id = useId();
  const hint = `${id}-hint`;
  return (
    <div className="control">
      <label htmlFor={id}>{label}</label>
      {children({ id, hint })}
      <p className="hint" id={hint} role="tooltip">
        {help}
      </p>
    </div>
  );
}

/** Method, granularity, allocation, calibration, the global sparsity slider and the token keep ratio. */
export function ControlsPanel({ summary }: { summary: ModelSummary }) {
  const config = useWorkbench((s) => s.config);
  const setConfig = useWorkbench((s) => s.setConfig);
  const structured = isStructured(config.granularity);
  const unstructuredMethod = !structured;
  const perLayerFree = freeLayerSparsity(config) !== null;

  return (
    <section className="card controls" aria-labelledby="controls-title">
      <div className="card-head">
        <h2 id="controls-title">Pruning</h2>
        <span className="card-note">hover or focus a control for its paper</span>
      </div>
      <div className="control-grid">
        <Control label="Granularity" help={GRANULARITY_HELP[config.granularity]}>
          {({ id, hint }) => (
            <select
              id={id}
              aria-describedby={hint}
              value={config.granularity}
              onChange={(e) => setConfig({ granularity: e.target.value as Granularity, score: 'default' })}
            >
              {(Object.keys(GRANULARITY_NAMES) as Granularity[]).map((g) => (
                <option key={g} value={g}>
                  {GRANULARITY_NAMES[g]}
                </option>
              ))}
            </select>
          )}
        </Control>
        <Control
          label="Method"
          help={
            unstructuredMethod
              ? METHOD_HELP[config.method]
              : 'Structured pruning ranks whole structures by the score below; the weight-level method does not apply.'
          }
        >
          {({ id, hint }) => (
            <select
              id={id}
              aria-describedby={hint}
              value={config.method}
              disabled={!unstructuredMethod}
              onChange={(e) => setConfig({ method: e.target.value as ShareState['method'] })}
            >
              {METHODS.map((m) => (
                <option key={m} value={m}>
                  {m}
                </option>
              ))}
            </select>
          )}
        </Control>
        {structured && config.granularity !== 'tokens' && config.granularity !== 'sublayers' ? (
          <Control
            label="Score"
            help="How structures are ranked: heads by output norm, Taylor or attention entropy; neurons by activation or Taylor; blocks by angular distance (windowed or single) or influence (Michel et al., 2019; Gromov et al., 2024)."
          >
            {({ id, hint }) => (
              <select
                id={id}
                aria-describedby={hint}
                value={config.score}
                onChange={(e) => setConfig({ score: e.target.value as ShareState['score'] })}
              >
                {scoresFor(config.granularity).map((s) => (
                  <option key={s} value={s}>
                    {s}
                  </option>
                ))}
              </select>
            )}
          </Control>
        ) : (
          <Control label="Allocation" help={ALLOCATION_HELP}>
            {({ id, hint }) => (
              <select
                id={id}
                aria-describedby={hint}
                value={config.allocation}
                disabled={config.granularity !== 'unstructured'}
                onChange={(e) => setConfig({ allocation: e.target.value as ShareState['allocation'] })}
              >
                {ALLOCATIONS.map((a) => (
                  <option key={a} value={a}>
                    {a}
                  </option>
                ))}
              </select>
            )}
          </Control>
        )}
        <Control label="Scope" help={SCOPE_HELP}>
          {({ id, hint }) => (
            <select
              id={id}
              aria-describedby={hint}
              value={config.scope}
              onChange={(e) => setConfig({ scope: e.target.value as ShareState['scope'] })}
            >
              <option value="layer">per layer</option>
              <option value="global">global</option>
            </select>
          )}
        </Control>
        <Control label="Calibration source" help={CALIB_HELP}>
          {({ id, hint }) => (
            <select
              id={id}
              aria-describedby={hint}
              value={config.calibSource}
              onChange={(e) => setConfig({ calibSource: e.target.value as ShareState['calibSource'] })}
            >
              {CALIB_SOURCES.map((c) => (
                <option key={c} value={c}>
                  {c}
                </option>
              ))}
            </select>
          )}
        </Control>
        <Control
          label="Calibration size"
          help={`Calibration examples (${summary.kind === 'vit' ? 'images' : 'windows of text'}); more is steadier and slower (Sun et al., 2023 use 128).`}
        >
          {({ id, hint }) => (
            <input
              id={id}
              aria-describedby={hint}
              type="number"
              min={1}
              max={1024}
              step={1}
              value={config.calibCount}
              onChange={(e) => {
                const v = Number(e.target.value);
                if (Number.isInteger(v) && v >= 1 && v <= 1024) setConfig({ calibCount: v });
              }}
            />
          )}
        </Control>
      </div>
      <Control label={structured ? 'Share removed' : 'Global sparsity'} help={SPARSITY_HELP}>
        {({ id, hint }) => (
          <div className="slider-row">
            <input
              id={id}
              aria-describedby={hint}
              type="range"
              min={0}
              max={MAX_SPARSITY}
              step={0.05}
              value={config.granularity === 'nm' ? 0.5 : config.sparsity}
              disabled={config.granularity === 'nm' || config.granularity === 'tokens' || perLayerFree}
              aria-valuetext={formatPercent(config.sparsity, 0)}
              onChange={(e) => setConfig({ sparsity: Number(e.target.value) })}
            />
            <output htmlFor={id} className="slider-value">
              {formatPercent(config.granularity === 'nm' ? 0.5 : config.sparsity, 0)}
            </output>
          </div>
        )}
      </Control>
      <LayerSliders summary={summary} />
      <Control label="Token keep ratio" help={TOKEN_HELP}>
        {({ id, hint }) => (
          <div className="slider-row">
            <input
              id={id}
              aria-describedby={hint}
              type="range"
              min={0.05}
              max={1}
              step={0.05}
              value={config.tokenKeep}
              disabled={config.granularity !== 'tokens'}
              aria-valuetext={formatPercent(config.tokenKeep, 0)}
              onChange={(e) => setConfig({ tokenKeep: Number(e.target.value) })}
            />
            <output htmlFor={id} className="slider-value">
              {formatPercent(config.tokenKeep, 0)}
            </output>
          </div>
        )}
      </Control>
      <PrunedResult summary={summary} />
    </section>
  );
}

function scoresFor(g: Granularity): ShareState['score'][] {
  if (g === 'heads') return ['default', 'norm', 'taylor', 'entropy'];
  if (g === 'neurons') return ['default', 'activation', 'taylor'];
  if (g === 'blocks') return ['default', 'angular-window', 'angular', 'influence'];
  return ['default'];
}

/** The pruned model's metric and cost, updated as the slider moves. */
function PrunedResult({ summary }: { summary: ModelSummary }) {
  const current = useWorkbench((s) => s.current);
  const config = useWorkbench((s) => s.config);
  const cancelPrune = useWorkbench((s) => s.cancelPrune);
  const prune = useWorkbench((s) => s.prune);
  const evaluation = useWorkbench((s) => s.evaluation);
  const dense = evaluation.status === 'done' ? evaluation.metrics : null;
  const { name: metricName, format: fmt } = metricDisplay(summary.kind);
  const report = current.status === 'done' ? current.report : null;
  const estimate =
    current.status === 'running' && current.estimate ? describeEstimate(summary.kind, current.estimate) : null;

  return (
    <section className="pruned" aria-label="Pruned model" aria-busy={current.status === 'running'}>
      <dl className="figures">
        <div className="figure main">
          <dt>{metricName} (pruned)</dt>
          <dd data-testid="pruned-metric">
            {report ? fmt(metricValue(report.metric)) : amountOf(config) === 0 && dense ? fmt(metricValue(dense)) : '—'}
          </dd>
        </div>
        <div className="figure">
          <dt>Parameters</dt>
          <dd>{formatCount(report ? report.nonzeroParams : summary.cost.params)}</dd>
        </div>
        <div className="figure">
          <dt>FLOPs</dt>
          <dd>{formatFlops(report ? report.flops : summary.cost.flops)}</dd>
        </div>
        <div className="figure">
          <dt>Size</dt>
          <dd>{formatBytes(report ? (report.bytes.nm24 ?? report.bytes.sparse) : 4 * summary.cost.params)}</dd>
        </div>
      </dl>
      {current.status === 'running' && (
        <div className="measuring">
          {estimate && (
            <p className="estimate" data-testid="pruned-metric-estimate">
              <span className="estimate-value">{estimate.value}</span> {estimate.basis}
            </p>
          )}
          <JobProgress
            name="Pruning progress"
            progress={current.progress}
            onCancel={cancelPrune}
            className="job-progress"
          />
        </div>
      )}
      {current.status === 'cancelled' && (
        <p className="note">
          Cancelled.{' '}
          <button type="button" className="button small quiet" onClick={prune}>
            Measure this configuration
          </button>
        </p>
      )}
      {current.status === 'failed' && <p className="error-text">Pruning failed: {current.message}</p>}
      {report && 'structure' in report && <p className="note">{report.structure}</p>}
      {report?.calibration && <p className="note">Calibration: {report.calibration}</p>}
      {report && (
        <p
          className="note"
          data-testid="prune-times"
          data-calibration-ms={report.timeMs.calibration}
          data-prune-ms={report.timeMs.prune}
          data-evaluate-ms={report.timeMs.evaluate}
        >
          Time in the worker: {describeTimes(report.timeMs)}
        </p>
      )}
      {report?.kernels && <KernelChoices choices={report.kernels} />}
      {amountOf(config) === 0 && <p className="note">At 0% the model is the dense one; move the slider to prune.</p>}
    </section>
  );
}
