/**
 * How the page is laid out, as the URL says (issue 23): which view shows (`view=`), which parts are
 * hidden for a class (`controls=`), and the presenter layout (`presenter=1`). Not experiment
 * settings: they are not saved with the work, not written into experiment files, and a link that
 * only picks a view still gets the saved work back. A leaf (no imports), so the UI, the lessons and
 * urlState all use it without a cycle.
 */

/** The page's views, in tab order; the first is the default. */
export const VIEWS = [
  { id: 'prune', label: 'Prune', help: 'The prune loop: model, sliders, the network, counts and accuracy.' },
  { id: 'data', label: 'Data & baseline', help: 'The CIFAR-10 images and the baseline training.' },
  { id: 'experiments', label: 'Experiments', help: 'Sensitivity scan, method comparison, schedules, oracle, lottery ticket.' },
  { id: 'inspect', label: 'Inspect', help: 'What each filter sees, per-class results, why pruning is (not) faster.' },
  { id: 'work', label: 'Runs & work', help: 'The run history, saved work, files and PyTorch export.' },
  { id: 'article', label: 'The article', help: "The article's gotcha, step by step." },
] as const;

export type ViewId = (typeof VIEWS)[number]['id'];
export const VIEW_IDS: readonly ViewId[] = VIEWS.map((v) => v.id);
export const DEFAULT_VIEW: ViewId = 'prune';

/**
 * Parts of the page a teacher can hide with `controls=-id,-id` (TensorFlow Playground's idea). A
 * view's id hides its tab (and the view); the prune view itself cannot be hidden.
 */
export const CONTROLS = [
  { id: 'data', label: 'the Data & baseline view' },
  { id: 'experiments', label: 'the Experiments view' },
  { id: 'inspect', label: 'the Inspect view' },
  { id: 'work', label: 'the Runs & work view' },
  { id: 'article', label: 'the article view' },
  { id: 'model', label: 'the model picker' },
  { id: 'method', label: 'the pruning method (criterion) choice' },
  { id: 'mode', label: 'the mask / remove choice' },
  { id: 'sliders', label: 'the pruning sliders' },
  { id: 'finetune', label: 'fine-tuning (epochs, button)' },
  { id: 'schedule', label: 'the pruning schedule' },
  { id: 'network', label: 'the network drawing' },
  { id: 'filters', label: 'the filter grids' },
  { id: 'export', label: 'the PyTorch export' },
  { id: 'train', label: 'baseline training' },
  { id: 'backend', label: 'the backend picker' },
  { id: 'share', label: 'the share link' },
] as const;

export type ControlId = (typeof CONTROLS)[number]['id'];
export const CONTROL_IDS: readonly ControlId[] = CONTROLS.map((c) => c.id);

export interface Layout {
  view: ViewId;
  /** Parts hidden by `controls=` (CONTROL_IDS order, no repeats). */
  hidden: ControlId[];
  /** Large type, fewer columns, for a projector. */
  presenter: boolean;
}

export const DEFAULT_LAYOUT: Layout = { view: DEFAULT_VIEW, hidden: [], presenter: false };

/** The URL parameters the layout owns (parseSettings leaves them alone). */
export const LAYOUT_KEYS = ['view', 'controls', 'presenter'] as const;

/** A view the layout lets the page show: a hidden view falls back to prune. */
export function shownView(layout: Layout): ViewId {
  return (layout.hidden as readonly string[]).includes(layout.view) ? DEFAULT_VIEW : layout.view;
}

/** A part (or a view's tab) shows unless controls= hides it; the prune view always shows. */
export const isShown = (layout: Layout, part: ControlId | ViewId): boolean => !(layout.hidden as readonly string[]).includes(part);

/**
 * `controls=` grammar: a comma list of parts to hide, each written with a leading minus
 * (`controls=-train,-export`). A part without the minus, or an unknown one, is reported and ignored.
 */
export function parseControls(raw: string): { hidden: ControlId[]; notices: string[] } {
  const notices: string[] = [];
  const hide = new Set<ControlId>();
  for (const token of raw.split(',').map((t) => t.trim()).filter(Boolean)) {
    const id = token.replace(/^-/, '');
    if (!(CONTROL_IDS as readonly string[]).includes(id)) {
      notices.push(`controls=${raw}: “${id}” is not a part of the page that can be hidden (one of ${CONTROL_IDS.join(', ')}); it was ignored.`);
      continue;
    }
    if (!token.startsWith('-')) {
      notices.push(`controls=${raw}: write -${id} to hide ${id}; “${token}” was ignored.`);
      continue;
    }
    hide.add(id as ControlId);
  }
  return { hidden: CONTROL_IDS.filter((id) => hide.has(id)), notices };
}

/** The layout a query string asks for; anything missing or bad keeps the default (bad: with a notice). */
export function parseLayout(search: string): { layout: Layout; notices: string[] } {
  const params = new URLSearchParams(search);
  const notices: string[] = [];
  const layout: Layout = { ...DEFAULT_LAYOUT, hidden: [] };
  const view = params.get('view');
  if (view !== null) {
    if ((VIEW_IDS as readonly string[]).includes(view)) layout.view = view as ViewId;
    else notices.push(`view=${view} is not one of ${VIEW_IDS.join(', ')}; showing ${DEFAULT_VIEW}.`);
  }
  const controls = params.get('controls');
  if (controls !== null) {
    const parsed = parseControls(controls);
    layout.hidden = parsed.hidden;
    notices.push(...parsed.notices);
  }
  const presenter = params.get('presenter');
  if (presenter !== null) {
    if (presenter === '1' || presenter === '0') layout.presenter = presenter === '1';
    else notices.push(`presenter=${presenter} must be 1 (on) or 0 (off); using 0.`);
  }
  if (layout.view !== shownView(layout)) notices.push(`view=${layout.view} is hidden by controls=; showing ${DEFAULT_VIEW}.`);
  return { layout, notices };
}

/** The layout's URL parameters, each only when it differs from the default (so plain links stay as they were). */
export function layoutToParams(layout: Layout): [string, string][] {
  const out: [string, string][] = [];
  if (layout.view !== DEFAULT_VIEW) out.push(['view', layout.view]);
  if (layout.hidden.length > 0) out.push(['controls', layout.hidden.map((id) => `-${id}`).join(',')]);
  if (layout.presenter) out.push(['presenter', '1']);
  return out;
}

/** The query string without the layout's parameters: what says something about the settings. */
export function withoutLayout(search: string): string {
  const params = new URLSearchParams(search);
  for (const k of LAYOUT_KEYS) params.delete(k);
  return params.toString();
}
