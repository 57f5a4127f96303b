import { useWorkbench } from '../store';

/** The last failure, in the engine's own words, until dismissed or replaced. */
export function NoticeBanner() {
  const notice = useWorkbench((s) => s.notice);
  const dismiss = useWorkbench((s) => s.dismissNotice);
  if (!notice) return null;
  return (
    <div role="alert" className="notice">
      <div className="notice-body">
        <strong className="notice-title">{notice.title}</strong>
        <p className="notice-message">{notice.message}</p>
      </div>
      <button type="button" className="button small quiet" onClick={dismiss}>
        Dismiss
      </button>
    </div>
  );
}
