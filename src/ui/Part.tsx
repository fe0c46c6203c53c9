import type { ReactNode } from 'react';
import { type ControlId, isShown } from '../state/layout';
import { useStore } from './context';

/** Whether a hideable part of the page shows (`controls=-id` hides it; layout.ts CONTROLS). */
export function useShown(part: ControlId): boolean {
  return useStore((s) => isShown(s.layout, part));
}

/** Renders its children unless `controls=` hides this part of the page. */
export function Part({ id, children }: { id: ControlId; children: ReactNode }) {
  return useShown(id) ? <>{children}</> : null;
}
