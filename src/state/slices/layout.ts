/**
 * The page's layout (layout.ts): which view shows, what `controls=` hides, presenter type. Read from
 * the URL when the controller is made (so the first paint shows the linked view), changed by the tabs
 * (a history entry each, so back/forward move between views) and by lessons (replacing the entry).
 */
import { type Layout, type ViewId, VIEWS, parseLayout, shownView } from '../layout';
import type { Shared } from '../shared';

export function layoutSlice(ctx: Shared) {
  const { get, set, notify, deps } = ctx;

  /** The layout of a query string; a bad value is reported and the rest kept. */
  function readLayout(search: string): void {
    const { layout, notices } = parseLayout(search);
    set({ layout });
    for (const n of notices) notify(n, 'info');
  }

  /** A tab was chosen: show that view, as a new history entry. */
  function showView(view: ViewId): void {
    const layout = get().layout;
    if (layout.view === view) return;
    const next = { ...layout, view };
    if (shownView(next) !== view) {
      notify(`The ${VIEWS.find((v) => v.id === view)!.label} view is hidden in this link (controls=).`, 'info');
      return;
    }
    set({ layout: next });
    ctx.writeUrlNow(true);
  }

  /** Part of the layout set by the page (a lesson step, say): the address bar's entry is replaced. */
  function setLayout(patch: Partial<Layout>): void {
    set({ layout: { ...get().layout, ...patch } });
    ctx.writeUrlNow(false);
  }

  /** Back/forward: the address bar already holds the entry; only the layout follows it (settings are not history). */
  function layoutFromUrl(search: string): void {
    const { layout } = parseLayout(search);
    set({ layout });
  }

  readLayout(deps.search);
  return { showView, setLayout, layoutFromUrl };
}
