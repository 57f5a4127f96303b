import type { InspectedInput, InspectView } from '../../workers/client';
import { formatPercent, tokenUnit } from '../format';

/** Class probabilities, or the next-token distribution and a sampled continuation. */
export function Predictions({ view, input }: { view: InspectView; input: InspectedInput }) {
  const p = view.predictions;
  const rows =
    p.kind === 'image-classifier'
      ? p.top.map((t) => ({
          key: t.index,
          label: t.label,
          prob: t.prob,
          truth: input.kind === 'image' && input.label === t.label,
        }))
      : p.top.map((t) => ({ key: t.id, label: t.display, prob: t.prob, truth: false }));
  return (
    <div className="predictions">
      <ol
        className="prob-bars"
        aria-label={p.kind === 'image-classifier' ? 'Most likely classes' : `Most likely next ${tokenUnit(p)}s`}
      >
        {rows.map((r) => (
          <li key={r.key} className={r.truth ? 'truth' : undefined}>
            <span className={`prob-label${p.kind === 'causal-lm' ? ' byte' : ''}`}>
              {r.label}
              {r.truth && (
                <span className="truth-mark" title="the image's true class">
                  {' '}
                  ✓<span className="visually-hidden"> true class</span>
                </span>
              )}
            </span>
            <span className="prob-track" aria-hidden="true">
              <span className="prob-fill" style={{ width: formatPercent(r.prob) }} />
            </span>
            <span className="prob-value">{formatPercent(r.prob)}</span>
          </li>
        ))}
      </ol>
      {p.kind === 'causal-lm' && p.continuation && input.kind === 'text' && (
        <p className="continuation" role="note" aria-label="Sampled continuation">
          <span className="prompt-tail">
            …
            {input.tokens
              .slice(-24)
              .map((t) => t.text)
              .join('')}
          </span>
          <mark>{p.continuation.text ?? p.continuation.ids.join(' ')}</mark>
        </p>
      )}
    </div>
  );
}
