/** The network diagram's layout engine is not started until the page's gate (main.tsx: the first accuracy) settles. */
import { describe, expect, it } from 'vitest';
import { defaultElk, holdElkUntil } from './NetworkView';

describe('holdElkUntil', () => {
  it('defaultElk waits for the gate, then gives a working elk', async () => {
    await import('elkjs/lib/elk.bundled.js'); // loaded once here, so only the gate can keep it waiting below
    let open: () => void = () => {};
    holdElkUntil(new Promise<void>((r) => (open = r)));
    let ready = false;
    const elk = defaultElk().then((e) => ((ready = true), e));
    await new Promise((r) => setTimeout(r, 100));
    expect(ready).toBe(false);
    open();
    const layout = await (await elk).layout({ id: 'root', children: [{ id: 'a', width: 10, height: 10 }], edges: [] });
    expect(ready).toBe(true);
    expect(layout.children).toHaveLength(1);
  });
});
