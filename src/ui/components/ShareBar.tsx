import { useState } from 'react';
import { formatPercent } from '../format';
import { useWorkbench } from '../store';
import { ProgressBar } from './ProgressBar';

/** Copy link (the whole configuration in the URL hash) and Export (the pruned checkpoint's files). */
export function ShareBar() {
  const shareUrl = useWorkbench((s) => s.shareUrl);
  const exportFiles = useWorkbench((s) => s.exportFiles);
  const exporting = useWorkbench((s) => s.exporting);
  const recovery = useWorkbench((s) => s.config.recovery);
  const [copied, setCopied] = useState<string | null>(null);

  async function copy() {
    const url = shareUrl();
    try {
      await navigator.clipboard.writeText(url);
      setCopied('Link copied.');
    } catch {
      setCopied('Could not reach the clipboard; the link is in the address bar.');
    }
    window.history.replaceState(null, '', url);
  }

  async function download() {
    const files = await exportFiles();
    if (!files) return;
    for (const f of files) {
      // A model read a block at a time exports into the browser's storage: its files are on disk already.
      const blob =
        'blob' in f
          ? f.blob
          : new Blob([f.bytes as BlobPart], {
              type: f.name.endsWith('.json') ? 'application/json' : 'application/octet-stream',
            });
      const a = document.createElement('a');
      a.href = URL.createObjectURL(blob);
      a.download = f.name;
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
    }
  }

  return (
    <section className="card share-bar" aria-label="Share and export">
      <div className="share-buttons">
        <button type="button" className="button small quiet" onClick={() => void copy()}>
          Copy link
        </button>
        <button
          type="button"
          className="button small"
          disabled={exporting.status === 'running'}
          onClick={() => void download()}
          title={`config.json + model.safetensors (Hugging Face) + masks.safetensors + recipe.json${recovery ? `, with the recovered weights${recovery.mode === 'lora' ? ' + adapter_config.json and adapter_model.safetensors (PEFT)' : ''}` : ''}`}
        >
          {recovery ? 'Export recovered checkpoint' : 'Export pruned checkpoint'}
        </button>
        <span className="card-note" role="status">
          {copied}
        </span>
      </div>
      {exporting.status === 'running' && (
        <div className="measuring">
          <p className="measuring-label">
            {exporting.progress.label}
            {exporting.progress.fraction !== null && ` · ${formatPercent(exporting.progress.fraction, 0)}`}
          </p>
          <ProgressBar label="Export progress" fraction={exporting.progress.fraction} />
        </div>
      )}
      {exporting.status === 'failed' && (
        <p className="error-text" role="alert">
          The export failed: {exporting.message}
        </p>
      )}
    </section>
  );
}

/** What was wrong with the link the page was opened with. */
export function LinkNotice() {
  const message = useWorkbench((s) => s.linkMessage);
  const dismiss = useWorkbench((s) => s.dismissLinkMessage);
  if (!message) return null;
  return (
    <div role="alert" className="notice" aria-label="Link problem">
      <div className="notice-body">
        <strong className="notice-title">This link could not be opened</strong>
        <p className="notice-message">{message}</p>
      </div>
      <button type="button" className="button small quiet" onClick={dismiss}>
        Dismiss
      </button>
    </div>
  );
}
