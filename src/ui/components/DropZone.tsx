import { useId, useState, type DragEvent } from 'react';
import { useWorkbench } from '../store';

/** Opens the user's own checkpoint: drop files here or choose them. */
export function DropZone() {
  const inputId = useId();
  const hintId = useId();
  const [over, setOver] = useState(false);
  const openFiles = useWorkbench((s) => s.openFiles);

  const open = (files: FileList | null) => {
    if (files && files.length > 0) void openFiles([...files]);
  };
  const onDrop = (e: DragEvent) => {
    e.preventDefault();
    setOver(false);
    open(e.dataTransfer.files);
  };
  const onDragOver = (e: DragEvent) => {
    e.preventDefault();
    e.dataTransfer.dropEffect = 'copy';
    setOver(true);
  };

  return (
    <section className="card drop-card" aria-labelledby={`${inputId}-title`}>
      <h2 id={`${inputId}-title`}>Open your own checkpoint</h2>
      {/* biome-ignore lint/a11y/noStaticElementInteractions: the drop target for a mouse; the file button inside it is the keyboard path */}
      <div
        className={over ? 'drop-zone over' : 'drop-zone'}
        onDragOver={onDragOver}
        onDragLeave={() => setOver(false)}
        onDrop={onDrop}
        data-testid="drop-zone"
      >
        <p id={hintId} className="drop-hint">
          Drop <code>config.json</code> and <code>model.safetensors</code> here, with <code>tokenizer.json</code> for a
          text model and <code>eval.safetensors</code> to measure it.
        </p>
        <input
          id={inputId}
          className="visually-hidden file-input"
          type="file"
          multiple
          accept=".json,.safetensors,application/json"
          aria-describedby={hintId}
          onChange={(e) => {
            open(e.target.files);
            e.target.value = '';
          }}
        />
        <label htmlFor={inputId} className="button">
          Choose files…
        </label>
      </div>
    </section>
  );
}
