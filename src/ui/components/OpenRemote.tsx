import { type FormEvent, useId, useState } from 'react';
import { DEFAULT_HUB } from '../../workers/client';
import { formatBytes } from '../format';
import { useWorkbench } from '../store';

const inputStyle = {
  font: 'inherit',
  fontSize: '0.9rem',
  padding: '5px 8px',
  border: '1px solid var(--border-strong)',
  borderRadius: 6,
  width: '100%',
  minWidth: 0,
} as const;

/**
 * Opens a model that is not on this machine: a hub id (org/name, @revision) or a folder URL; and
 * the models downloaded before, kept in this browser, to reopen without the network or delete.
 */
export function OpenRemote() {
  const inputId = useId();
  const hintId = useId();
  const [text, setText] = useState('');
  const hub = useWorkbench((s) => s.hub);
  const openRemote = useWorkbench((s) => s.openRemote);
  const busy = useWorkbench((s) => s.opening.status === 'running');

  const submit = (e: FormEvent) => {
    e.preventDefault();
    void openRemote(text);
  };

  return (
    <section className="card" aria-labelledby={`${inputId}-title`}>
      <h2 id={`${inputId}-title`}>Open from the hub or a URL</h2>
      <form onSubmit={submit} className="control">
        <label htmlFor={inputId}>Hub model or folder URL</label>
        <div style={{ display: 'flex', gap: 8 }}>
          <input
            id={inputId}
            type="text"
            style={inputStyle}
            value={text}
            placeholder="org/name or org/name@revision"
            spellCheck={false}
            autoComplete="off"
            aria-describedby={hintId}
            onChange={(e) => setText(e.target.value)}
          />
          <button type="submit" className="button small" disabled={busy || !text.trim()}>
            Open
          </button>
        </div>
        <p id={hintId} className="card-note">
          Files come from {hub}/<em>org/name</em>/resolve/<em>revision</em>/
          {hub !== DEFAULT_HUB && ' (set by ?hub= in the page address)'}, or from the folder the URL names; they are
          kept in this browser.
        </p>
      </form>
      <CachedModels />
    </section>
  );
}

/** The downloaded models kept in this browser, with their sizes. */
function CachedModels() {
  const cached = useWorkbench((s) => s.cached);
  const openRemote = useWorkbench((s) => s.openRemote);
  const deleteCached = useWorkbench((s) => s.deleteCached);
  const busy = useWorkbench((s) => s.opening.status === 'running');
  const listId = useId();
  if (cached.length === 0) return null;
  const hubOf = (base: string, id: string) => base.slice(0, base.lastIndexOf(`/${id}/resolve/`));
  return (
    <>
      <h3 id={listId} style={{ fontSize: '0.9rem', margin: '12px 0 6px' }}>
        Downloaded models
      </h3>
      <ul aria-labelledby={listId} style={{ listStyle: 'none', margin: 0, padding: 0 }}>
        {cached.map((m) => (
          <li
            key={m.base}
            aria-label={m.name}
            style={{ display: 'flex', alignItems: 'center', gap: 8, flexWrap: 'wrap', padding: '4px 0' }}
          >
            <span style={{ flex: '1 1 auto', minWidth: 0, overflowWrap: 'anywhere' }} title={m.base}>
              <strong>{m.name}</strong>{' '}
              <span className="card-note" title={m.files.map((f) => `${f.name}: ${formatBytes(f.bytes)}`).join('\n')}>
                {formatBytes(m.bytes)} · {m.files.length} files
              </span>
            </span>
            <button
              type="button"
              className="button small"
              disabled={busy}
              onClick={() =>
                void openRemote(m.source, m.source.kind === 'hub' ? hubOf(m.base, m.source.id) : undefined)
              }
            >
              Open
            </button>
            <button type="button" className="button small quiet" onClick={() => void deleteCached(m.base)}>
              Delete
            </button>
          </li>
        ))}
      </ul>
    </>
  );
}
