/** The data slice: the shipped CIFAR-10 subsets, the user's own batches, Retry. */
import { type Cifar10Set, Cifar10FormatError, classCounts, concatSets, parseCifar10 } from '../../core/data/cifar10';
import type { DataRole } from '../../worker/protocol';
import { type Shared, message } from '../shared';
import type { State } from '../types';

export const DATA_FILES: Record<DataRole, string> = { train: 'data/cifar10/train_5000.bin', test: 'data/cifar10/test_1000.bin' };

export function dataSlice(ctx: Shared) {
  const { get, set, notify } = ctx;

  function updateData(role: DataRole, patch: Partial<State['data'][DataRole]>): void {
    set((s) => ({ data: { ...s.data, [role]: { ...s.data[role], ...patch } } }));
  }

  /**
   * Downloads started at once on load, while the engine starts (wasm compile, kernels' self-check): they
   * used to wait for it (measured on a cold load of ?conv1=50&mode=remove&method=l1: the data requested
   * only after the backend and the baseline were ready). Each is taken once by loadData; a retry downloads again.
   */
  const prefetched: Partial<Record<DataRole, Promise<Uint8Array>>> = {};
  function prefetchData(): void {
    for (const role of ['train', 'test'] as const) {
      updateData(role, { status: 'loading', loaded: 0, total: null });
      const p = ctx.deps.fetchBytes(DATA_FILES[role], (loaded, total) => updateData(role, { loaded, total }));
      p.catch(() => {}); // reported where it is taken (loadData)
      prefetched[role] = p;
    }
  }

  /** Loads the shipped data sets that are not loaded yet; a failure offers Retry and loses nothing. */
  async function loadData(): Promise<void> {
    const roles = (['train', 'test'] as const).filter((r) => get().data[r].status !== 'ready' && (get().data[r].status !== 'loading' || prefetched[r]));
    const failures: string[] = [];
    await Promise.all(
      roles.map(async (role) => {
        const url = DATA_FILES[role];
        const early = prefetched[role];
        delete prefetched[role];
        if (!early) updateData(role, { status: 'loading', loaded: 0, total: null });
        try {
          const bytes = await (early ?? ctx.deps.fetchBytes(url, (loaded, total) => updateData(role, { loaded, total })));
          await useSet(role, parseCifar10(bytes, url.split('/').pop()!));
        } catch (e) {
          updateData(role, { status: 'error' });
          // fetchBytes already names the file in its HTTP errors; say it once.
          failures.push(message(e).startsWith(url) ? message(e) : `${url}: ${message(e)}`);
        }
      }),
    );
    if (failures.length) {
      notify(`Could not load the CIFAR-10 data (${failures.join('; ')}). Check the connection and retry, or drop your own CIFAR-10 .bin files.`, 'error', 'data');
    }
    if (ctx.dataReady()) await afterDataChange();
  }

  async function retryData(): Promise<void> {
    set((s) => ({ notices: s.notices.filter((n) => n.retry !== 'data') }));
    await loadData();
  }

  async function useSet(role: DataRole, data: Cifar10Set): Promise<void> {
    await ctx.engine().request('setData', { role, set: data });
    updateData(role, { status: 'ready', count: data.count, source: data.source, perClass: classCounts(data), loaded: data.pixels.length });
    // The accuracy shown was measured on the old data: it goes (and one still being measured is dropped).
    ctx.dataChanged();
  }

  async function afterDataChange(): Promise<void> {
    await ctx.cross.evaluateBaseline();
    ctx.cross.schedulePreview();
  }

  /**
   * The user's own CIFAR-10 batches, parsed here and never uploaded. `test_batch*` files become the
   * test set, the rest the training set. A bad file is reported and the data already loaded stays.
   */
  async function loadUserFiles(files: File[]): Promise<void> {
    if (ctx.refuseWhileBusy('Data cannot change')) return;
    const parsed: Record<DataRole, Cifar10Set[]> = { train: [], test: [] };
    for (const f of files) {
      try {
        const data = parseCifar10(new Uint8Array(await f.arrayBuffer()), f.name);
        parsed[/test/i.test(f.name) ? 'test' : 'train'].push(data);
      } catch (e) {
        notify(e instanceof Cifar10FormatError ? `${e.message} The data already loaded is unchanged.` : `${f.name}: ${message(e)}`);
      }
    }
    for (const role of ['train', 'test'] as const) {
      if (parsed[role].length === 0) continue;
      const merged = parsed[role].length === 1 ? parsed[role][0] : concatSets(parsed[role]);
      try {
        await useSet(role, merged);
        set((s) => ({ notices: s.notices.filter((n) => n.retry !== 'data') }));
        notify(`Loaded ${merged.count.toLocaleString('en-US')} ${role} images from ${merged.source}.`, 'info');
      } catch (e) {
        notify(`${merged.source}: ${message(e)}`);
      }
    }
    if (parsed.train.length + parsed.test.length > 0 && ctx.dataReady()) await afterDataChange();
  }

  return { prefetchData, loadData, retryData, loadUserFiles, afterDataChange };
}
