import * as Tabs from '@radix-ui/react-tabs';
import { type ReactNode, createContext, useContext, useEffect, useState } from 'react';
import { VIEWS, type ViewId, isShown, shownView } from '../state/layout';
import { useActions, useStore } from './context';

/**
 * The page's views as an accessible tab list (Radix Tabs: role=tablist/tab/tabpanel, roving focus with
 * the arrow keys, Enter or Space to open — manual activation, so moving focus does not add a history
 * entry per key). The view lives in the store and the URL (`view=`): a tab pushes a history entry, so
 * the browser's back and forward move between views. The views with state of their own (a comparison's
 * form, the speed lab's timings, a chosen image) are mounted when first opened and then kept, hidden,
 * so it is still there when you come back; one that asks the engine for work by itself (the feature
 * maps) asks only while it shows (useViewActive), so it does not slow the prune loop. The prune and
 * data views keep everything in the store and share parts (the model picker, the baseline's accuracy
 * and origin, the data counts): only the open one of them is mounted.
 */
export function Views({ views, children }: { views: Record<ViewId, ReactNode>; children?: ReactNode }) {
  const actions = useActions();
  const layout = useStore((s) => s.layout);
  const view = shownView(layout);
  const visible = VIEWS.filter((v) => isShown(layout, v.id));
  const [visited, setVisited] = useState<ReadonlySet<ViewId>>(() => new Set(KEPT.includes(view) ? [view] : []));
  // React's "adjusting state while rendering": a kept view shown for the first time joins the mounted ones.
  if (KEPT.includes(view) && !visited.has(view)) setVisited(new Set([...visited, view]));
  return (
    <Tabs.Root value={view} onValueChange={(v) => actions.showView(v as ViewId)} activationMode="manual" className="views">
      <Tabs.List className="tabs" aria-label="Views of the playground" data-testid="tabs">
        {visible.map((v) => (
          <Tabs.Trigger key={v.id} value={v.id} className="tab" title={v.help} data-testid={`tab-${v.id}`}>
            {v.label}
          </Tabs.Trigger>
        ))}
      </Tabs.List>
      {children}
      {visible.map((v) => (
        <Tabs.Content
          key={v.id}
          value={v.id}
          className="view"
          data-testid={`view-${v.id}`}
          data-view={v.id}
          forceMount={visited.has(v.id) ? true : undefined}
          hidden={v.id !== view}
        >
          {(visited.has(v.id) || v.id === view) && <ViewActive.Provider value={v.id === view}>{views[v.id]}</ViewActive.Provider>}
        </Tabs.Content>
      ))}
    </Tabs.Root>
  );
}

/** Views kept mounted (hidden) once opened. */
const KEPT: readonly ViewId[] = ['experiments', 'inspect', 'work', 'article'];

const ViewActive = createContext(true);

/** Whether the view this component is in shows (a kept, hidden view answers false). */
export const useViewActive = (): boolean => useContext(ViewActive);

/** presenter=1: large type and fewer columns, set on the root element so rem sizes follow. */
export function usePresenterClass(): void {
  const presenter = useStore((s) => s.layout.presenter);
  useEffect(() => {
    document.documentElement.classList.toggle('presenter', presenter);
  }, [presenter]);
}
