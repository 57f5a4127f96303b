// The pruning controls, every list and tooltip from the catalogue (../choices.ts), and the pruned
// model's metric, cost and times as the worker measures them.
import { useId, useState, type ReactNode } from 'react';
import {
  type AllocationParameter,
  allocationEntry,
  calibrationModeEntry,
  citeShort,
  PAPERS,
} from '../../engine/pruning/catalogue';
import { headlineOf, type ModelSummary } from '../../workers/client';
import {
  bitsOf,
  calibSetsOf,
  choiceFor,
  type Control as ControlModel,
  controlsFor,
  type QuantControls,
  type QuantGroupSize,
  type Toggle,
} from '../choices';
import { describeEstimate, describeSearch, describeTimes } from '../estimate';
import { formatBytes, formatCount, formatFlops, formatPercent, metricDisplay } from '../format';
import { freeLayerSparsity } from '../layer-sparsity';
import { MAX_SPARSITY, type ParameterField, parameterFields, type ShareState } from '../share';
import { changesModel, isStructured, quantOf, useWorkbench } from '../store';
import { JobProgress } from './JobProgress';
import { KernelChoices } from './KernelChoices';
import { LayerSliders } from './LayerSliders';

const SPARSITY_HELP =
  'Global sparsity: the share of block weights (or of the chosen structures) removed. Arrow keys move it by 5%; every change re-prunes and re-measures, cancelling the run for a stale value (Zhu & Gupta, 2017, "To prune, or not to prune").';
const SIZE_HELP =
  'The model as stored: each pruned matrix in the smallest of dense, a bitmask with the kept values, and 2:4 with its indices; quantized values at their bits with their scales and zero points; everything else 32-bit floats.';
const TOKEN_HELP =
  'Token keep ratio: the share of tokens each block from block 2 on keeps, ranked by the chosen score; the weights are unchanged.';

function Control({
  label,
  help,
  notes = [],
  children,
}: {
  label: string;
  help: string;
  /** Why options of the control are ruled out: shown under it. */
  notes?: string[];
  children: (ids: { id: string; describedBy: string }) => ReactNode;
}) {
  const id = useId();
  const hint = `${id}-hint`;
  const noted = `${id}-notes`;
  return (
    <div className="control">
      <label htmlFor={id}>{label}</label>
      {children({ id, describedBy: notes.length ? `${hint} ${noted}` : hint })}
      {notes.length > 0 && (
        <ul className="option-notes" id={noted}>
          {notes.map((n) => (
            <li key={n}>{n}</li>
          ))}
        </ul>
      )}
      <p className="hint" id={hint} role="tooltip">
        {help}
      </p>
    </div>
  );
}

/** A control over the catalogue's entries: each option names its paper, or why the choices before it rule it out. */
function Choice<Id extends string>({
  label,
  control,
  onPick,
  disabled = false,
}: {
  label: string;
  control: ControlModel<Id>;
  onPick: (id: Id) => void;
  /** The whole control waits for an earlier one (the grid's settings for the bits). */
  disabled?: boolean;
}) {
  return (
    <Control label={label} help={control.help} notes={control.notes}>
      {({ id, describedBy }) => (
        <select
          id={id}
          aria-describedby={describedBy}
          disabled={disabled}
          value={control.value}
          onChange={(e) => onPick(e.target.value as Id)}
        >
          {control.options.map((o) => (
            <option key={o.id} value={o.id} disabled={o.disabled} title={o.title}>
              {o.label}
            </option>
          ))}
        </select>
      )}
    </Control>
  );
}

/**
 * Tokens per window of text, for calibration and measurement. Typed values apply on Enter or when
 * the field is left, so that typing "256" does not measure on windows of 2 and 25 tokens first.
 */
function WindowControl({ summary }: { summary: ModelSummary }) {
  const chosen = useWorkbench((s) => s.config.window);
  const setConfig = useWorkbench((s) => s.setConfig);
  const value = chosen ?? summary.sequence;
  const [typed, setTyped] = useState<string | null>(null);
  const apply = () => {
    if (typed === null) return;
    setTyped(null);
    const v = Number(typed);
    if (Number.isInteger(v) && v >= 2 && v <= summary.sequence)
      setConfig({ window: v === summary.sequence ? null : v });
  };
  return (
    <Control
      label="Window (tokens)"
      help={`Tokens per window of text, for calibration and for measuring (2 to ${summary.sequence}; the model's ${summary.sequence} by default). Shorter windows measure a large model sooner and its first estimate comes sooner, at a higher loss: the model sees less context.`}
    >
      {({ id, describedBy }) => (
        <input
          id={id}
          aria-describedby={describedBy}
          type="number"
          min={2}
          max={summary.sequence}
          step={1}
          value={typed ?? value}
          onChange={(e) => setTyped(e.target.value)}
          onBlur={apply}
          onKeyDown={(e) => {
            if (e.key === 'Enter') apply();
          }}
        />
      )}
    </Control>
  );
}

/** One of an allocation's parameters (OWL's M and λ, EvoPress's search steps), within the catalogue's range. */
function AllocationParameterInput({
  owner,
  parameter: p,
  value,
  onSet,
}: {
  /** The allocation's label: "OWL", "EvoPress". */
  owner: string;
  parameter: AllocationParameter;
  value: number;
  onSet: (v: number) => void;
}) {
  // Whole steps for whole numbers and wide ranges (M, search steps), hundredths over a narrow one (λ).
  const step = p.integer || p.max - p.min > 1 ? 1 : 0.01;
  return (
    <Control
      label={`${owner} ${p.label}`}
      help={`${owner}'s ${p.label}: ${p.summary} From ${p.min} to ${p.max}; ${p.default} by default.`}
    >
      {({ id, describedBy }) => (
        <input
          id={id}
          aria-describedby={describedBy}
          type="number"
          min={p.min}
          max={p.max}
          step={step}
          value={value}
          onChange={(e) => {
            const v = Number(e.target.value);
            if (
              e.target.value !== '' &&
              Number.isFinite(v) &&
              v >= p.min &&
              v <= p.max &&
              (!p.integer || Number.isInteger(v))
            )
              onSet(v);
          }}
        />
      )}
    </Control>
  );
}

/** A checkbox with its help, disabled with the reason it cannot be turned on. */
function Check({ label, toggle, onSet }: { label: string; toggle: Toggle; onSet: (v: boolean) => void }) {
  return (
    <Control label={label} help={toggle.help} notes={toggle.reason ? [toggle.reason] : []}>
      {({ id, describedBy }) => (
        <input
          id={id}
          className="control-check"
          aria-describedby={describedBy}
          type="checkbox"
          checked={toggle.checked}
          disabled={toggle.disabled}
          onChange={(e) => onSet(e.target.checked)}
        />
      )}
    </Control>
  );
}

/** Bits, group size, quantizer, act-order and symmetry; the grid's settings wait for the bits. */
function QuantizationControls({ q, setConfig }: { q: QuantControls; setConfig: (patch: Partial<ShareState>) => void }) {
  return (
    <fieldset className="control-group">
      <legend>Quantization</legend>
      <div className="control-grid">
        <Choice label="Bits" control={q.bits} onPick={(id) => setConfig({ bits: bitsOf(id) })} />
        <Choice
          label="Group size"
          control={q.groupSize}
          disabled={q.off}
          onPick={(id) => setConfig({ groupSize: Number(id) as QuantGroupSize })}
        />
        <Choice
          label="Quantizer"
          control={q.quantizer}
          disabled={q.off}
          onPick={(quantizer) => setConfig({ quantizer })}
        />
        <div className="control-checks">
          <Check label="Symmetric" toggle={q.symmetric} onSet={(symmetric) => setConfig({ symmetric })} />
          <Check label="Act-order" toggle={q.actOrder} onSet={(actOrder) => setConfig({ actOrder })} />
        </div>
      </div>
    </fieldset>
  );
}

/**
 * Granularity, method or score, scope, allocation (with OWL's parameters), calibration, the global
 * sparsity slider, the per-layer sliders and the token keep ratio. Every list comes from the
 * catalogue, and an option the choices before it rule out is disabled with the catalogue's reason.
 */
export function ControlsPanel({ summary }: { summary: ModelSummary }) {
  const config = useWorkbench((s) => s.config);
  const setConfig = useWorkbench((s) => s.setConfig);
  const structured = isStructured(config.granularity);
  const perLayerFree = freeLayerSparsity(config) !== null;
  const c = controlsFor(config, summary.family, calibSetsOf(summary), !!summary.streamed);
  const pick =
    <K extends keyof ShareState>(key: K) =>
    (value: ShareState[K]) =>
      setConfig({ [key]: value });

  return (
    <section className="card controls" aria-labelledby="controls-title">
      <div className="card-head">
        <h2 id="controls-title">Pruning</h2>
        <span className="card-note">hover or focus a control for its paper</span>
      </div>
      <div className="control-grid">
        <Choice label="Granularity" control={c.granularity} onPick={pick('granularity')} />
        {c.method && <Choice label="Method" control={c.method} onPick={pick('method')} />}
        {c.score && (
          <Choice label="Score" control={c.score} onPick={(id) => setConfig({ score: choiceFor(c.score!, id) })} />
        )}
        {c.scope && (
          <Choice label="Scope" control={c.scope} onPick={(id) => setConfig({ scope: choiceFor(c.scope!, id) })} />
        )}
        {c.allocation && <Choice label="Allocation" control={c.allocation} onPick={pick('allocation')} />}
        {c.allocation &&
          parameterFields(config.allocation).map(({ parameter, field }) => (
            <AllocationParameterInput
              key={field}
              owner={allocationEntry(config.allocation).label}
              parameter={parameter}
              value={config[field]}
              onSet={pick<ParameterField>(field)}
            />
          ))}
        {c.calibMode && (
          <Choice
            label="Calibration mode"
            control={c.calibMode}
            onPick={(id) => setConfig({ calibMode: choiceFor(c.calibMode!, id) })}
          />
        )}
        <Choice
          label="Calibration source"
          control={c.calibSource}
          onPick={(id) => setConfig({ calibSource: choiceFor(c.calibSource, id) })}
        />
        <Control
          label="Calibration size"
          help={`Calibration examples (${summary.family === 'image-classifier' ? 'images' : 'windows of text'}); more is steadier and slower (Wanda uses 128: ${citeShort(PAPERS.sun2024)}).`}
        >
          {({ id, describedBy }) => (
            <input
              id={id}
              aria-describedby={describedBy}
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
        {summary.family === 'causal-lm' && <WindowControl summary={summary} />}
      </div>
      {c.quant && <QuantizationControls q={c.quant} setConfig={setConfig} />}
      <Control label={structured ? 'Share removed' : 'Global sparsity'} help={SPARSITY_HELP}>
        {({ id, describedBy }) => (
          <div className="slider-row">
            <input
              id={id}
              aria-describedby={describedBy}
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
      <LayerSliders summary={summary} refused={c.perBlock} />
      <Control label="Token keep ratio" help={TOKEN_HELP}>
        {({ id, describedBy }) => (
          <div className="slider-row">
            <input
              id={id}
              aria-describedby={describedBy}
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

/** The pruned model's metric and cost, updated as the slider moves. */
function PrunedResult({ summary }: { summary: ModelSummary }) {
  const current = useWorkbench((s) => s.current);
  const config = useWorkbench((s) => s.config);
  const cancelPrune = useWorkbench((s) => s.cancelPrune);
  const prune = useWorkbench((s) => s.prune);
  const evaluation = useWorkbench((s) => s.evaluation);
  const dense = evaluation.status === 'done' ? evaluation.value : null;
  const { name: metricName, format: fmt } = metricDisplay(summary.family);
  const report = current.status === 'done' ? current.value.report : null;
  const estimate =
    current.status === 'running' && current.progress.estimate
      ? describeEstimate(summary.family, current.progress.estimate)
      : null;
  const quant = quantOf(config);

  return (
    <section className="pruned" aria-label="Pruned model" aria-busy={current.status === 'running'}>
      <dl className="figures">
        <div className="figure main">
          <dt>{metricName} (pruned)</dt>
          <dd data-testid="pruned-metric">
            {report ? fmt(headlineOf(report.metric)) : !changesModel(config) && dense ? fmt(headlineOf(dense)) : '—'}
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
          <dt>Size{report && quant ? ` (${quant.bits}-bit)` : ''}</dt>
          <dd data-testid="pruned-size" title={SIZE_HELP}>
            {formatBytes(report ? report.bytes.stored : 4 * summary.cost.params)}
          </dd>
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
            // A search's line says how far it is and what its best split so far reaches.
            progress={
              current.progress.search
                ? { ...current.progress, label: describeSearch(current.progress.search) }
                : current.progress
            }
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
      {report?.calibration && (
        <p className="note">
          Calibration: {report.calibration}
          {report.calibrationMode && `, ${calibrationModeEntry(report.calibrationMode).label}`}
        </p>
      )}
      {report && (
        <p
          className="note"
          data-testid="prune-times"
          data-calibration-ms={report.timeMs.calibration}
          data-prune-ms={report.timeMs.prune}
          data-evaluate-ms={report.timeMs.evaluate}
          data-first-estimate-ms={report.timeMs.firstEstimate ?? undefined}
        >
          Time in the worker: {describeTimes(report.timeMs)}
        </p>
      )}
      {report?.kernels && <KernelChoices choices={report.kernels} />}
      {!changesModel(config) && (
        <p className="note">
          At 0% the model is the dense one; move the slider to prune, or choose the bits to quantize.
        </p>
      )}
    </section>
  );
}
