import * as Tabs from '@radix-ui/react-tabs';
import { type ReactNode, useEffect } from 'react';
import { VIEWS, type ViewId, isShown, shownView } from '../state/layout';
import { useActions, useStore } from './context';

/**
 * The page's views as an accessible tab list (Radix Tabs: role=tablist/tab/tabpanel, roving focus with
 * the arrow keys, Enter or Space to open — manual activation, so moving focus does not add a history
 * entry per key). The view lives in the store and the URL (`view=`): a tab pushes a history entry, so
 * the browser's back and forward move between views. Only the open view is mounted: the feature maps
 * and the speed lab ask the engine for work while mounted, which would slow the prune loop.
 */
export function Views({ views, children }: { views: Record<ViewId, ReactNode>; children?: ReactNode }) {
  const actions = useActions();
  const layout = useStore((s) => s.layout);
  const view = shownView(layout);
  const visible = VIEWS.filter((v) => isShown(layout, v.id));
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
        <Tabs.Content key={v.id} value={v.id} className="view" data-testid={`view-${v.id}`} data-view={v.id}>
          {views[v.id]}
        </Tabs.Content>
      ))}
    </Tabs.Root>
  );
}

/** presenter=1: large type and fewer columns, set on the root element so rem sizes follow. */
export function usePresenterClass(): void {
  const presenter = useStore((s) => s.layout.presenter);
  useEffect(() => {
    document.documentElement.classList.toggle('presenter', presenter);
  }, [presenter]);
}
