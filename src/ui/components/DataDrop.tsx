import { useId, useState } from 'react';
import { type ModelSummary, SHIPPED_TEXT } from '../../workers/client';
import type { EvalDataSource } from '../model-slice';
import { useWorkbench } from '../store';

/**
 * What to measure a model on when it brought no eval.safetensors: for a language model the shipped
 * public-domain text or a UTF-8 text file; for an image model a folder with one subfolder of
 * images per class. Once the worker has the set, the model's summary carries it and the usual
 * measurement (and the current configuration's) runs.
 */
export function DataDrop({ summary }: { summary: ModelSummary }) {
  const inputId = useId();
  const hintId = useId();
  const [state, setState] = useState<{ busy: boolean; error: string | null }>({ busy: false, error: null });
  const text = summary.family === 'causal-lm';
  const measureOn = useWorkbench((s) => s.measureOn);

  const use = async (source: EvalDataSource) => {
    setState({ busy: true, error: null });
    setState({ busy: false, error: await measureOn(source) });
  };
  const choose = (files: FileList | null) => {
    if (files && files.length > 0) void use({ kind: 'files', files: [...files] });
  };

  return (
    <div className="empty data-drop">
      <p id={hintId}>
        {text ? (
          <>
            No eval.safetensors came with this model. Measure it on the shipped text — {SHIPPED_TEXT.description} — or
            on a UTF-8 text file of your own.
          </>
        ) : (
          <>
            An image model needs images to be measured on: choose a folder with one subfolder of PNG or JPEG images per
            class, each named by its label ({summary.labels?.slice(0, 4).join(', ')}
            {(summary.labels?.length ?? 0) > 4 ? ', …' : ''}).
          </>
        )}
      </p>
      {text && (
        <button
          type="button"
          className="button small"
          disabled={state.busy}
          onClick={() => void use({ kind: 'shipped-text' })}
        >
          Use the shipped text
        </button>
      )}
      <input
        id={inputId}
        className="visually-hidden file-input"
        type="file"
        aria-describedby={hintId}
        disabled={state.busy}
        {...(text
          ? { accept: '.txt,text/plain' }
          : // Chrome, Firefox and Safari all take a folder through this attribute; React passes it through.
            ({ webkitdirectory: '', multiple: true } as object))}
        onChange={(e) => {
          choose(e.target.files);
          e.target.value = '';
        }}
      />
      <label htmlFor={inputId} className="button small quiet">
        {text ? 'Choose a text file…' : 'Choose a folder…'}
      </label>
      {state.busy && <p role="status">Reading the data…</p>}
      {state.error && <p role="alert">{state.error}</p>}
    </div>
  );
}
