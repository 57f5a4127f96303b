/** A labelled progress bar; `fraction` null shows an indeterminate bar. */
export function ProgressBar({ label, fraction }: { label: string; fraction: number | null }) {
  return fraction === null ? (
    <progress className="progress" aria-label={label} />
  ) : (
    <progress className="progress" aria-label={label} max={1} value={Math.min(1, Math.max(0, fraction))} />
  );
}
