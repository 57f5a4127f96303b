import { useId } from 'react';
import { FILES_SOURCE_ID, useWorkbench } from '../store';

/** Chooses one of the models listed in /models/index.json. */
export function ModelPicker() {
  const id = useId();
  const catalog = useWorkbench((s) => s.catalog);
  const selectedId = useWorkbench((s) => s.selectedId);
  const model = useWorkbench((s) => s.model);
  const selectModel = useWorkbench((s) => s.selectModel);
  const fromFiles = !!model && model.source.kind !== 'default';

  return (
    <div className="model-picker">
      <label htmlFor={id}>Model</label>
      <select
        id={id}
        value={selectedId ?? ''}
        onChange={(e) => e.target.value !== FILES_SOURCE_ID && void selectModel(e.target.value)}
      >
        {selectedId === null && <option value="">Choose a model…</option>}
        {catalog.map((m) => (
          <option key={m.id} value={m.id}>
            {m.name}
          </option>
        ))}
        {fromFiles && (
          <option value={FILES_SOURCE_ID} disabled>
            {model.name}
          </option>
        )}
      </select>
    </div>
  );
}
