import type { Progress } from '../../workers/client';
import { formatPercent } from '../format';
import { ProgressBar } from './ProgressBar';

/** A long job in the worker: what it is doing, how far it is, and its Cancel button. */
export function JobProgress({
  name,
  progress,
  onCancel,
  className = 'measuring',
}: {
  name: string;
  progress: Progress;
  onCancel: () => void;
  className?: string;
}) {
  return (
    <div className={className}>
      <p className="measuring-label">
        {progress.label}
        {progress.fraction !== null && ` · ${formatPercent(progress.fraction, 0)}`}
      </p>
      <div className="progress-row">
        <ProgressBar label={name} fraction={progress.fraction} />
        <button type="button" className="button small" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </div>
  );
}
