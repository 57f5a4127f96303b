import { useEffect, useState, type ReactNode } from 'react';
import type { InspectResult, InspectView } from '../../workers/client';
import { attentionShade } from '../heat';
import { changesModel, type Inspection, inspectionTarget, type JobState, shownOf, useWorkbench } from '../store';
import { AttentionGrid, AttentionTable, type HeadRef } from './AttentionGrid';
import { HeatLegend } from './HeatLegend';
import { InputPicker } from './InputPicker';
import { Predictions } from './Predictions';
import { JobProgress } from './JobProgress';
import { Saliency, SALIENCY_METHODS, type SaliencyMethod } from './Saliency';

/**
 * What the model makes of one input, before and after pruning: predictions, saliency and attention
 * maps, computed in the worker for the selected input and the measured configuration.
 */
export function InspectPanel() {
  const modelKey = useWorkbench((s) => s.model?.key);
  const picker = useWorkbench((s) => s.pickerInputs);
  const code = useWorkbench((s) => s.config.input);
  const inspection = useWorkbench((s) => s.inspection);
  const targetKey = useWorkbench((s) => inspectionTarget(s)?.key ?? null);
  const dense = useWorkbench((s) => !changesModel(s.config));
  const pruning = useWorkbench((s) => s.current.status === 'running');
  const loadPickerInputs = useWorkbench((s) => s.loadPickerInputs);
  const inspect = useWorkbench((s) => s.inspect);
  const cancelInspect = useWorkbench((s) => s.cancelInspect);
  const setInput = useWorkbench((s) => s.setInput);

  useEffect(() => {
    if (modelKey !== undefined) void loadPickerInputs();
  }, [modelKey, loadPickerInputs]);
  // A new input, model or measured configuration: inspect again (the slice skips what is shown).
  useEffect(() => {
    if (targetKey) inspect();
  }, [targetKey, inspect]);

  const last = shownOf(inspection)?.value;
  const shown = last?.modelKey === modelKey ? last : null;
  const result = shown?.result ?? null;
  const pruned = dense ? null : (result?.pruned ?? null);
  const comparison = shown?.comparison ?? null;
  const comparing = pruned && comparison ? comparison.label : null;
  const current = useWorkbench((s) => (s.current.status === 'done' ? s.current.key : null));
  const stale = comparing !== null && comparison !== null && current !== JSON.stringify(comparison.recipe);
  const placeholder = dense
    ? 'Prune the model (the sparsity slider) or quantize it (the bits) to see the same views after it.'
    : pruning
      ? 'The pruned model is being measured; its views appear here when its report is in.'
      : 'The pruned model’s views appear here once the configuration is measured.';

  return (
    <section className="card inspect-panel" aria-labelledby="inspect-title" aria-busy={inspection.status === 'running'}>
      <div className="card-head">
        <h2 id="inspect-title">Inspect an input</h2>
        <span className="card-note">What the model sees and predicts, before and after pruning</span>
      </div>
      {picker && picker.modelKey === modelKey ? (
        <InputPicker inputs={picker.inputs} code={code} onPick={setInput} />
      ) : (
        <p className="card-note">Loading the inputs…</p>
      )}
      <Status inspection={inspection} onCancel={cancelInspect} onRetry={inspect} />
      {comparing && (
        <p className="comparing">
          After pruning: <strong>{comparing}</strong>
          {stale && (
            <span className="card-note">
              {' '}
              (the last measured configuration; the views follow the new one once it is measured)
            </span>
          )}
        </p>
      )}
      {result && <Views result={result} pruned={pruned} placeholder={placeholder} />}
    </section>
  );
}

function Status({
  inspection,
  onCancel,
  onRetry,
}: {
  inspection: JobState<Inspection>;
  onCancel: () => void;
  onRetry: () => void;
}) {
  if (inspection.status === 'running') {
    return (
      <JobProgress
        name="Inspection progress"
        progress={inspection.progress}
        onCancel={onCancel}
        className="inspect-status"
      />
    );
  }
  if (inspection.status === 'failed' || inspection.status === 'cancelled') {
    const error = inspection.status === 'failed' ? inspection.message : null;
    return (
      <div className={`inspect-status${error ? ' inspect-error' : ''}`} role={error ? 'alert' : undefined}>
        <p>{error ? `This input could not be inspected: ${error}.` : 'Inspection cancelled.'}</p>
        <button type="button" className="button small quiet" onClick={onRetry}>
          Inspect again
        </button>
      </div>
    );
  }
  return null;
}

function Views({
  result,
  pruned,
  placeholder,
}: {
  result: InspectResult;
  pruned: InspectView | null;
  placeholder: string;
}) {
  const group = useWorkbench((s) => (s.model ? s.model.summary.heads / s.model.summary.kvHeads : 1));
  const [method, setMethod] = useState<SaliencyMethod>('gradient');
  const [head, setHead] = useState<HeadRef | null>(null);
  const input = result.input;
  const both = (render: (view: InspectView) => ReactNode) => (
    <Compare dense={render(result.dense)} pruned={pruned && render(pruned)} placeholder={placeholder} />
  );
  const text = input.kind === 'text';
  return (
    <>
      {text && input.croppedTokens > 0 && (
        <p className="card-note">
          The model reads the last {input.tokens.length} tokens (its context, or what an inspection shows); the first{' '}
          {input.croppedTokens} are left out.
        </p>
      )}
      <section className="inspect-block" aria-label="Predictions">
        <h3>{text ? 'Next byte, and a sampled continuation (temperature 0.8, fixed seed)' : 'Prediction'}</h3>
        {both((view) => (
          <Predictions view={view} input={input} />
        ))}
      </section>
      <section className="inspect-block" aria-label="Saliency">
        <div className="block-head">
          <h3>Saliency</h3>
          <div className="seg-buttons" role="radiogroup" aria-label="Saliency method">
            {SALIENCY_METHODS.map((m) => (
              <button
                key={m.id}
                type="button"
                role="radio"
                aria-checked={method === m.id}
                title={m.description}
                onClick={() => setMethod(m.id)}
              >
                {m.label}
              </button>
            ))}
          </div>
          <HeatLegend
            caption={text ? 'Byte saliency' : 'Patch saliency'}
            description={`Colour: saliency relative to the most salient ${text ? 'byte, from 0 (pale)' : 'patch, from 0 (see-through over the image)'} to 1 (dark red)`}
            ticks={[
              ['0', 0],
              ['0.5', 0.5],
              ['1', 1],
            ]}
          />
        </div>
        {both((view) => (
          <Saliency view={view} input={input} method={method} />
        ))}
      </section>
      <section className="inspect-block" aria-label="Attention">
        <div className="block-head">
          <h3>Attention maps</h3>
          <span className="card-note">
            rows: queries, columns: keys{text ? '' : ' (CLS first, then the 16 patches by row)'}; select a map for its
            values
          </span>
          <HeatLegend
            caption="Attention weight"
            description="Colour: attention weight on a square-root scale, from 0 (pale) to 1 (dark red)"
            ticks={[0, 0.05, 0.25, 1].map((w) => [String(w), attentionShade(w)])}
          />
        </div>
        {both((view) => (
          <AttentionGrid
            title={view === result.dense ? 'before pruning' : 'after pruning'}
            maps={view.attention}
            input={input}
            selected={head}
            onSelect={setHead}
            group={group}
          />
        ))}
        {head && (
          <AttentionTable at={head} dense={result.dense.attention} pruned={pruned?.attention ?? null} input={input} />
        )}
      </section>
    </>
  );
}

function Compare({ dense, pruned, placeholder }: { dense: ReactNode; pruned: ReactNode | null; placeholder: string }) {
  return (
    <div className="compare">
      <div className="compare-col">
        <h4 className="compare-title">Before pruning</h4>
        {dense}
      </div>
      <div className="compare-col">
        <h4 className="compare-title">After pruning</h4>
        {pruned ?? <p className="card-note compare-empty">{placeholder}</p>}
      </div>
    </div>
  );
}
