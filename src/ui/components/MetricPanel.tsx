import type { Metrics, ModelSummary } from '../../workers/client';
import { formatInteger, formatPercent, formatValue } from '../format';
import { type JobState, useWorkbench } from '../store';
import { JobProgress } from './JobProgress';
import { DataDrop } from './DataDrop';

/** The loaded model's quality on its eval set, measured in the worker, with progress and Cancel. */
export function MetricPanel({ summary }: { summary: ModelSummary }) {
  const evaluation = useWorkbench((s) => s.evaluation);
  const evaluate = useWorkbench((s) => s.evaluate);
  const cancel = useWorkbench((s) => s.cancelEvaluation);
  const set = summary.evalSet;
  const on = !set
    ? null
    : set.kind === 'images'
      ? `${formatInteger(set.count)} eval images`
      : `${formatInteger(set.bytes)} bytes of eval text, windows of ${formatInteger(summary.evalWindow)} tokens`;

  return (
    <section className="card metric-panel" aria-labelledby="metric-title" aria-busy={evaluation.status === 'running'}>
      <div className="card-head">
        <h2 id="metric-title">Baseline quality</h2>
        {on && <span className="card-note">on {on}</span>}
      </div>
      <Body evaluation={evaluation} summary={summary} onCancel={cancel} onMeasure={() => void evaluate()} />
    </section>
  );
}

function Body({
  evaluation,
  summary,
  onCancel,
  onMeasure,
}: {
  evaluation: JobState<Metrics>;
  summary: ModelSummary;
  onCancel: () => void;
  onMeasure: () => void;
}) {
  if (!summary.evalSet) return <DataDrop summary={summary} />;
  switch (evaluation.status) {
    case 'running':
      return <JobProgress name="Measuring progress" progress={evaluation.progress} onCancel={onCancel} />;
    case 'done':
      return (
        <>
          <MetricFigures metrics={evaluation.value} byteLevel={summary.vocabSize === 256} />
          <button type="button" className="button small quiet" onClick={onMeasure}>
            Measure again
          </button>
        </>
      );
    case 'cancelled':
      return (
        <div className="empty">
          <p>Measurement cancelled.</p>
          <button type="button" className="button small" onClick={onMeasure}>
            Measure
          </button>
        </div>
      );
    case 'failed':
      return (
        <div className="empty">
          <p role="alert" className="error-text">
            Measuring failed: {evaluation.message}
          </p>
          <button type="button" className="button small" onClick={onMeasure}>
            Try again
          </button>
        </div>
      );
    default:
      return <p className="empty">Not measured yet.</p>;
  }
}

function MetricFigures({ metrics: m, byteLevel }: { metrics: Metrics; byteLevel: boolean }) {
  if (m.kind === 'classifier') {
    return (
      <dl className="figures">
        <Figure name="Accuracy" value={formatPercent(m.accuracy)} main />
        <Figure name="Mean cross-entropy" value={`${formatValue(m.loss)} nats`} />
        <Figure name="Images" value={formatInteger(m.count)} />
      </dl>
    );
  }
  return (
    <dl className="figures">
      <Figure name="Bits per byte" value={formatValue(m.bitsPerByte)} main />
      <Figure name="Perplexity" value={formatValue(m.perplexity)} />
      <Figure
        name={byteLevel ? 'Next-byte accuracy' : 'Next-token accuracy'}
        value={formatPercent(m.nextTokenAccuracy)}
      />
      <Figure name={byteLevel ? 'Bytes predicted' : 'Tokens predicted'} value={formatInteger(m.tokens)} />
    </dl>
  );
}

function Figure({ name, value, main = false }: { name: string; value: string; main?: boolean }) {
  return (
    <div className={main ? 'figure main' : 'figure'}>
      <dt>{name}</dt>
      <dd>{value}</dd>
    </div>
  );
}
