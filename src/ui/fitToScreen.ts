import { type RefObject, useCallback, useEffect, useLayoutEffect, useRef } from 'react';

/**
 * The height a box may take so that it ends `gap` px above the bottom of a `viewport`-tall window when
 * the page is scrolled to the top (`top`: the box's offset from the top of the document), never less
 * than `min` px (a short window scrolls the page instead of squeezing the box to nothing).
 */
export function fitHeight({ top, viewport, gap, min }: { top: number; viewport: number; gap: number; min: number }): number {
  return Math.max(min, Math.floor(viewport - top - gap));
}

/** Two columns (the desktop prune view) — the width at which styles.css stops stacking the prune grid. */
const WIDE = '(min-width: 761px)';

/**
 * Caps the element's height at what is left of the first screen below it (fitHeight), so a long list —
 * ResNet-20's fifteen sliders — scrolls inside itself and the prune loop stays on one screen; marks it
 * `scrolls` while its content is taller than the cap (styles.css draws it as a scroll box then). Off in
 * one column (phone width, presenter type): a box scrolling inside a scrolling page helps nobody there.
 * Measured on mount, a frame after each render, on resize and when the page's height changes (a notice, the origin line
 * or a wrapped header above it move it down). Hand-written: a few lines of DOM measuring, no library
 * does "fill the rest of the first screen".
 */
export function useFitToScreen(ref: RefObject<HTMLElement | null>, { gap, min, off }: { gap: number; min: number; off: boolean }): void {
  const fit = useCallback(() => {
    const el = ref.current;
    if (!el) return;
    const wide = typeof window.matchMedia !== 'function' || window.matchMedia(WIDE).matches;
    if (off || !wide) {
      el.style.maxHeight = '';
    } else {
      const top = el.getBoundingClientRect().top + window.scrollY;
      el.style.maxHeight = `${fitHeight({ top, viewport: window.innerHeight, gap, min })}px`;
    }
    el.classList.toggle('scrolls', el.scrollHeight > el.clientHeight + 1);
  }, [ref, gap, min, off]);
  // Before the first paint, and again when the settings change: no frame shows the list uncapped.
  useLayoutEffect(fit, [fit]);
  // After every other render too — the list's own content (a help line, a group note) changes what overflows —
  // but in the next animation frame, not in the commit: reading the box's position there forced a layout of the
  // whole page inside every slider input, before its counts showed (a CPU profile of 15 inputs: 220–406 ms in
  // that read; slider → counts, timed as the bench does: median 15.9–21.5 ms before, 11.3–12.0 after, load 4–7).
  const frameAfterRender = useRef(0);
  useEffect(() => {
    cancelAnimationFrame(frameAfterRender.current);
    frameAfterRender.current = requestAnimationFrame(fit);
  });
  useEffect(() => () => cancelAnimationFrame(frameAfterRender.current), []);
  useEffect(() => {
    window.addEventListener('resize', fit);
    // A frame later, not inside the observer's callback: resizing there would re-trigger it in the same
    // frame (the browser's "ResizeObserver loop" error).
    let frame = 0;
    const observer =
      typeof ResizeObserver === 'function'
        ? new ResizeObserver(() => {
            cancelAnimationFrame(frame);
            frame = requestAnimationFrame(fit);
          })
        : null;
    observer?.observe(document.body);
    return () => {
      window.removeEventListener('resize', fit);
      observer?.disconnect();
      cancelAnimationFrame(frame);
    };
  }, [fit]);
}
