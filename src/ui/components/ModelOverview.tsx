import type { LoadedModel } from '../store';
import { formatBytes, formatInteger } from '../format';
import { remoteBaseUrl } from '../../workers/client';

/** The loaded model's name, where it came from, and its shape. */
export function ModelOverview({ model }: { model: LoadedModel }) {
  const s = model.summary;
  const warnings = s.warnings ?? [];
  const source =
    model.source.kind === 'default'
      ? `public/models/${model.source.id}`
      : model.source.kind === 'files'
        ? `your files: ${model.source.files.join(', ')}`
        : `${remoteBaseUrl(model.source.ref, model.source.hub)}${model.source.fromCache ? " (from this browser's cache)" : ''}`;
  const tokens = s.kind === 'vit' ? `${s.sequence - 1} patches + CLS` : 'context window';
  const evalSet = !s.evalSet
    ? 'none'
    : s.evalSet.kind === 'images'
      ? `${formatInteger(s.evalSet.count)} images`
      : `${formatBytes(s.evalSet.bytes)} of text`;
  const facts: [string, string, string?][] = [
    ['Architecture', s.architecture],
    ['Blocks', String(s.layers)],
    ['Heads per block', `${s.heads} × ${s.hidden / s.heads} d`],
    ['Width · FFN', `${s.hidden} · ${s.ffn}`],
    ['Tokens per example', String(s.sequence), tokens],
    s.kind === 'vit' ? ['Classes', String(s.labels?.length ?? 0)] : ['Vocabulary', formatInteger(s.vocabSize ?? 0)],
    ['Eval set', evalSet],
  ];
  return (
    <section className="card overview" aria-labelledby="model-name">
      <div className="overview-head">
        <h2 id="model-name">{model.name}</h2>
        <span className="chip">{model.task}</span>
      </div>
      <p className="source">{source}</p>
      <dl className="facts">
        {facts.map(([k, v, detail]) => (
          <div key={k} className={k === 'Architecture' ? 'fact wide' : 'fact'}>
            <dt>{k}</dt>
            <dd>
              {v}
              {detail && <span className="fact-detail"> ({detail})</span>}
            </dd>
          </div>
        ))}
      </dl>
      {(model.ignoredFiles.length > 0 || s.ignoredTensors.length > 0) && (
        <p className="note">
          {model.ignoredFiles.length > 0 && <>Not used: {model.ignoredFiles.join(', ')}. </>}
          {s.ignoredTensors.length > 0 && (
            <>
              {s.ignoredTensors.length} tensors in the weight files are not part of the architecture and were left out.
            </>
          )}
        </p>
      )}
      {/* What the loader let pass but the user should know (NaN or infinite weights, an index out of
          step with its shards): each names its file and tensor. */}
      {warnings.length > 0 && (
        <div className="note" role="status" aria-label="Warnings about the model's files">
          <strong>{warnings.length === 1 ? 'Warning' : `${warnings.length} warnings`} about the files:</strong>
          <ul>
            {warnings.map((w) => (
              <li key={w}>{w}</li>
            ))}
          </ul>
        </div>
      )}
    </section>
  );
}
