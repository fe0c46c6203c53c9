import { useActions, useStore } from './context';

/** Messages about bad input (URL values, files), failures and finished actions; each can be dismissed. */
export function Notices() {
  const actions = useActions();
  const notices = useStore((s) => s.notices);
  if (notices.length === 0) return null;
  return (
    <section className="notices" aria-live="polite">
      {notices.map((n) => (
        <div key={n.id} className={`notice ${n.level}`} role={n.level === 'error' ? 'alert' : 'status'} data-testid="notice">
          <span>{n.text}</span>
          {n.retry === 'data' && (
            <button onClick={() => void actions.retryData()} data-testid="data-retry">
              Retry
            </button>
          )}
          {n.retry === 'fullData' && (
            <button onClick={() => void actions.retryFullData()} data-testid="full-data-retry">
              Retry
            </button>
          )}
          <button className="link" onClick={() => actions.dismissNotice(n.id)} aria-label="Dismiss" data-testid="dismiss-notice">
            ×
          </button>
        </div>
      ))}
    </section>
  );
}
