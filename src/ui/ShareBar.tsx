import { useState } from 'react';
import { DEFAULT_LAYOUT, type Layout } from '../state/layout';
import { type Settings, pageQuery } from '../state/urlState';
import { useAppStore } from './context';

/** A link that reproduces every setting on this page, and its view, hidden parts and presenter type. */
export function shareLink(settings: Settings, layout: Layout = DEFAULT_LAYOUT): string {
  return `${location.origin}${location.pathname}?${pageQuery(settings, layout)}`;
}

/** Copies the share link. */
export function ShareBar() {
  const appStore = useAppStore();
  const [copied, setCopied] = useState<string | null>(null);
  const copy = async () => {
    const link = shareLink(appStore.getState().settings, appStore.getState().layout);
    try {
      await navigator.clipboard.writeText(link);
      setCopied('Link copied.');
    } catch {
      // Clipboard access can be refused (permissions, insecure origin): show the link to copy by hand.
      setCopied(link);
    }
  };
  return (
    <div className="share">
      <button onClick={() => void copy()} data-testid="copy-link">
        Copy link
      </button>
      <span className="muted small" data-testid="copy-status">
        {copied ?? 'The link holds every setting on this page.'}
      </span>
    </div>
  );
}
