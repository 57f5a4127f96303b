// Recovery after pruning: the form (mode from the engine's list, steps, learning rate, warm-up,
// batch, data, LoRA's rank and alpha, distillation's temperature), what the run needs in memory
// against the tab's budget, and the run itself: its loss and held-out metric as they stream in,
// with Cancel, and the metric before and after.
import { extent, line, scaleLinear } from 'd3';
import { type ReactNode, useId } from 'react';
import { citeShort } from '../../engine/pruning/catalogue';
import {
  RECOVERY_DATA,
  RECOVERY_MODES,
  type RecoveryDataId,
  type RecoveryModeId,
  recoveryModeEntry,
} from '../../engine/recovery/modes';
import { type CurvePoint, headlineOf, type ModelSummary, passesText, pastItsPeak } from '../../workers/client';
import { formatDuration } from '../estimate';
import { metricDisplay } from '../format';
import { choiceProblem, dataRefusal, memoryBudgetOf, memoryNote, useWorkbench } from '../store';
import { JobProgress } from './JobProgress';

const modeTitle = (id: RecoveryModeId) => {
  const m = recoveryModeEntry(id);
  return `${m.summary} ${m.implements}${m.paper ? ` (${citeShort(m.paper)}, arXiv:${m.paper.arxiv})` : ''}`;
};

function Field({ label, children }: { label: string; children: (id: string) => ReactNode }) {
  const id = useId();
  return (
    <div className="control">
      <label htmlFor={id}>{label}</label>
      {children(id)}
    </div>
  );
}

function NumberField({
  label,
  value,
  step,
  min,
  onSet,
}: {
  label: string;
  value: number;
  step: number | 'any';
  min: number;
  onSet: (v: number) => void;
}) {
  return (
    <Field label={label}>
      {(id) => (
        <input
          id={id}
          type="number"
          min={min}
          step={step}
          value={value}
          onChange={(e) => e.target.value !== '' && onSet(Number(e.target.value))}
        />
      )}
    </Field>
  );
}

/** The training loss (left scale) and held-out metric (right scale) against the step. */
function RecoveryCurve({
  loss,
  metric,
  steps,
  metricName,
}: {
  loss: CurvePoint[];
  metric: CurvePoint[];
  steps: number;
  metricName: string;
}) {
  const W = 360;
  const H = 130;
  const pad = 8;
  /** The curves' lowest point: the legend line sits under it. */
  const bottom = H - 18;
  const x = scaleLinear()
    .domain([0, steps])
    .range([pad, W - pad]);
  const [l0, l1] = extent(loss, (p) => p.value) as [number | undefined, number | undefined];
  const [m0, m1] = extent(metric, (p) => p.value) as [number | undefined, number | undefined];
  const yl = scaleLinear()
    .domain([l0 ?? 0, (l1 ?? 1) === (l0 ?? 0) ? (l0 ?? 0) + 1 : (l1 ?? 1)])
    .range([bottom, pad]);
  const ym = scaleLinear()
    .domain([m0 ?? 0, (m1 ?? 1) === (m0 ?? 0) ? (m0 ?? 0) + 1 : (m1 ?? 1)])
    .range([bottom, pad]);
  const lossPath = line<CurvePoint>()
    .x((p) => x(p.step))
    .y((p) => yl(p.value));
  const metricPath = line<CurvePoint>()
    .x((p) => x(p.step))
    .y((p) => ym(p.value));
  const last = (c: CurvePoint[]) => c[c.length - 1];
  return (
    <svg
      className="recover-curve"
      viewBox={`0 0 ${W} ${H}`}
      role="img"
      data-testid="recovery-curve"
      aria-label={`Training loss${loss.length ? ` ${last(loss).value.toFixed(3)} at step ${last(loss).step}` : ''}; ${metricName.toLowerCase()} measured ${metric.length} time(s)`}
    >
      <path className="loss" d={lossPath(loss) ?? ''} />
      <path className="metric" d={metricPath(metric) ?? ''} />
      {metric.map((p) => (
        <circle key={p.step} className="metric-dot" cx={x(p.step)} cy={ym(p.value)} r={3} />
      ))}
      <text x={pad} y={H - 3}>
        loss (blue) · {metricName.toLowerCase()} (green) by step
      </text>
    </svg>
  );
}

/** The Recover control beside the pruned result. */
export function RecoverPanel({ summary }: { summary: ModelSummary }) {
  const draft = useWorkbench((s) => s.recoveryDraft);
  const setDraft = useWorkbench((s) => s.setRecoveryDraft);
  const recovery = useWorkbench((s) => s.recovery);
  const live = useWorkbench((s) => s.recoveryLive);
  const recover = useWorkbench((s) => s.recover);
  const cancel = useWorkbench((s) => s.cancelRecovery);
  const pruned = useWorkbench((s) => s.current.status === 'done');
  // The windows a language model trains on: the configuration's, else its context.
  const tokens = useWorkbench((s) => s.config.window) ?? summary.sequence;
  const ownData = useWorkbench((s) => s.ownData);
  const askedBudget = useWorkbench((s) => s.memoryBudget);
  const budget = memoryBudgetOf(summary, askedBudget);
  const { name: metricName, format: fmt } = metricDisplay(summary.family);
  const problem = choiceProblem(draft) ?? dataRefusal(draft.data, summary, ownData);
  const note = memoryNote(summary, draft, budget, tokens);
  const running = recovery.status === 'running';
  const run = recovery.status === 'done' ? recovery.value : null;
  const peak = run && pastItsPeak(run.report);

  return (
    <section className="card controls" aria-labelledby="recover-title" aria-busy={running}>
      <div className="card-head">
        <h2 id="recover-title">Recovery</h2>
        <span className="card-note">train what the pruning kept, and watch the metric come back</span>
      </div>
      <div className="control-grid">
        <Field label="Recovery mode">
          {(id) => (
            <select
              id={id}
              value={draft.mode}
              title={modeTitle(draft.mode)}
              onChange={(e) => setDraft({ mode: e.target.value as RecoveryModeId })}
            >
              {RECOVERY_MODES.map((m) => (
                <option key={m.id} value={m.id} title={modeTitle(m.id)}>
                  {m.label}
                </option>
              ))}
            </select>
          )}
        </Field>
        <NumberField label="Steps" value={draft.steps} step={1} min={1} onSet={(steps) => setDraft({ steps })} />
        <NumberField
          label="Learning rate"
          value={draft.learningRate}
          step="any"
          min={0}
          onSet={(learningRate) => setDraft({ learningRate })}
        />
        <NumberField
          label="Warm-up steps"
          value={draft.warmupSteps}
          step={1}
          min={0}
          onSet={(warmupSteps) => setDraft({ warmupSteps })}
        />
        <NumberField
          label="Batch size"
          value={draft.batchSize}
          step={1}
          min={1}
          onSet={(batchSize) => setDraft({ batchSize })}
        />
        <Field label="Training data">
          {(id) => (
            <select id={id} value={draft.data} onChange={(e) => setDraft({ data: e.target.value as RecoveryDataId })}>
              {RECOVERY_DATA.map((d) => {
                const why = dataRefusal(d.id, summary, ownData);
                return (
                  <option key={d.id} value={d.id} disabled={why !== null} title={why ?? d.summary}>
                    {d.label}
                  </option>
                );
              })}
            </select>
          )}
        </Field>
        {draft.mode === 'lora' && (
          <>
            <NumberField label="LoRA rank" value={draft.rank} step={1} min={1} onSet={(rank) => setDraft({ rank })} />
            <NumberField
              label="LoRA alpha"
              value={draft.alpha}
              step="any"
              min={0.01}
              onSet={(alpha) => setDraft({ alpha })}
            />
          </>
        )}
        {draft.mode === 'distill' && (
          <NumberField
            label="Temperature"
            value={draft.temperature}
            step="any"
            min={0.1}
            onSet={(temperature) => setDraft({ temperature })}
          />
        )}
      </div>
      {draft.data === 'custom' && (
        <p className="note">
          Your data is also what the metric is measured on: the recovered metric is then not held out.
        </p>
      )}
      {note && (
        <p className="note" data-testid="recovery-memory">
          {note}
        </p>
      )}
      {problem && <p className="error-text">{problem}</p>}
      {running ? (
        <JobProgress name="Recovery progress" progress={recovery.progress} onCancel={cancel} className="job-progress" />
      ) : (
        <button
          type="button"
          className="button small"
          disabled={!pruned || problem !== null || !!summary.streamed}
          onClick={() => void recover()}
        >
          Recover
        </button>
      )}
      {summary.streamed ? (
        <p className="note">
          Recovery trains every kept weight at once, and this model is read from its files a block at a time: recover it
          on the command line.
        </p>
      ) : (
        !pruned && !running && <p className="note">Prune first: recovery trains the pruned model.</p>
      )}
      {(running || run) && (
        <RecoveryCurve
          loss={live.loss}
          metric={live.metric}
          steps={run ? run.report.recovery.steps : draft.steps}
          metricName={metricName}
        />
      )}
      {run && (
        <div role="status" data-testid="recovery-result">
          <p>
            {metricName}: {fmt(run.pruned.metric)} pruned →{' '}
            <strong data-testid="recovered-metric">{fmt(headlineOf(run.report.after))}</strong> recovered (
            {recoveryModeEntry(run.choice.mode).label}, {run.report.data}, {passesText(run.report.passes)})
          </p>
          <p
            className="note"
            data-testid="recovery-times"
            data-ms-per-step={run.report.msPerStep ?? undefined}
            data-time-ms={run.report.timeMs}
          >
            Time in the worker:{' '}
            {run.report.msPerStep !== null && `${formatDuration(run.report.msPerStep)} per update, `}
            {formatDuration(run.report.timeMs)} in all with the measurements
          </p>
          {peak && (
            <p className="note" data-testid="recovery-peak">
              {peak.text}
            </p>
          )}
          {run.report.aborted && (
            <p className="note">
              Cancelled at step {run.report.stepsDone}; kept the weights of step {run.report.step}.
            </p>
          )}
        </div>
      )}
      {recovery.status === 'cancelled' && <p className="note">Recovery cancelled before any training step.</p>}
      {recovery.status === 'failed' && (
        <p className="error-text" role="alert">
          Recovery failed: {recovery.message} The pruned result is unchanged.
        </p>
      )}
    </section>
  );
}
