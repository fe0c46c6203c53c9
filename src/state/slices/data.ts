/** The data slice: the shipped CIFAR-10 subsets, the full CIFAR-10 on demand (data=full), the user's own batches, Retry. */
import { type Cifar10Set, Cifar10FormatError, classCounts, concatSets, parseCifar10 } from '../../core/data/cifar10';
import { loadFullCifar10 } from '../../core/data/cifar10Full';
import type { DataRole } from '../../worker/protocol';
import { type Shared, message } from '../shared';
import type { FullDataStatus, State } from '../types';
import type { DataChoice } from '../urlState';

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
    // A link with data=full: the subset is in use at once, the full set follows when downloaded.
    if (get().settings.data === 'full' && get().fullData.status === 'idle' && !failures.length) void loadFullData();
  }

  async function retryData(): Promise<void> {
    set((s) => ({ notices: s.notices.filter((n) => n.retry !== 'data') }));
    await loadData();
  }

  /** The shipped subset as loaded (the full data set's slider previews use its test images; picking the subset again restores it). */
  const subset: Partial<Record<DataRole, Cifar10Set>> = {};

  async function useSet(role: DataRole, data: Cifar10Set, transfer: Transferable[] = []): Promise<void> {
    if (data.source === DATA_FILES[role].split('/').pop()) subset[role] = data;
    // Read before the request: a transferred set's arrays are empty afterwards.
    const patch = { status: 'ready' as const, count: data.count, source: data.source, perClass: classCounts(data), loaded: data.pixels.length };
    await ctx.engine().request('setData', { role, set: data }, transfer);
    updateData(role, patch);
    // The accuracy shown was measured on the old data: it goes (and one still being measured is dropped).
    ctx.dataChanged();
  }

  /**
   * The pruned accuracy first, then the baseline's: the worker runs requests in order, and a link opened
   * with a prune in it is opened for that figure (navigation → first pruned accuracy, bench row
   * app-first-pruned: the baseline's evaluation, 230 ms on a cold start, and the preview's 80 ms debounce
   * came before it). The preview needs nothing of the baseline's evaluation.
   */
  async function afterDataChange(): Promise<void> {
    ctx.cross.schedulePreview(true);
    await ctx.cross.evaluateBaseline();
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

  function updateFull(patch: Partial<FullDataStatus>): void {
    set((s) => ({ fullData: { ...s.fullData, ...patch } }));
  }

  /** The running download's abort (Cancel). */
  let fullAbort: AbortController | null = null;

  /**
   * The data set picker. 'full' downloads the full CIFAR-10 (progress, Cancel, Retry) and only then puts
   * it in the engine: until it is complete, and after a failure or a cancel, the subset stays in use.
   * The shipped pretrained baseline follows the data set (its full-data run, when one ships), unless the
   * baseline is the user's own.
   */
  async function pickData(choice: DataChoice): Promise<void> {
    if (choice === get().settings.data && (choice === 'subset' || get().fullData.status === 'ready' || fullAbort)) return;
    if (ctx.refuseWhileBusy('The data set cannot change')) return;
    ctx.setSettings({ ...get().settings, data: choice });
    // Before the subset is in, loadData starts the full download once it is (the subset's test images are the previews').
    if (choice === 'full') return subset.test ? loadFullData() : undefined;
    cancelFullData(false);
    if (get().fullData.status === 'ready') {
      updateFull({ status: 'idle', loaded: 0 });
      if (!subset.train || !subset.test) return loadData(); // a user's own batches replaced them: download again
      await ctx.engine().request('setPreviewData', { set: null });
      await useSet('train', subset.train);
      await useSet('test', subset.test);
      await afterDataSetChange();
    }
  }

  /** Downloads the full CIFAR-10 (again, after a failure: Retry) and uses it. */
  async function loadFullData(): Promise<void> {
    if (fullAbort) return;
    set((s) => ({ notices: s.notices.filter((n) => n.retry !== 'fullData') }));
    const abort = new AbortController();
    fullAbort = abort;
    updateFull({ status: 'loading', loaded: 0, total: null, file: 'manifest.json', error: null });
    let full;
    try {
      full = await loadFullCifar10('', {
        onProgress: (p) => !abort.signal.aborted && updateFull({ loaded: p.loaded, total: p.total, file: p.file }),
        fetchFile: (url, onProgress) => ctx.deps.fetchBytes(url, onProgress, abort.signal),
      });
    } catch (e) {
      if (abort.signal.aborted) return; // cancelled: cancelFullData said so
      fullAbort = null;
      const why = message(e);
      updateFull({ status: 'error', error: why });
      notify(`The full CIFAR-10 could not be loaded (${why}). The 5,000/1,000-image subset stays in use; Retry downloads it again.`, 'error', 'fullData');
      return;
    }
    fullAbort = null;
    await whenNoJob(); // a running training or experiment finishes on the data it started with
    if (get().settings.data !== 'full') return; // picked the subset meanwhile
    try {
      // The subset's 1,000 test images stay the slider previews' (fast); evaluations use the 10,000.
      if (!subset.test) throw new Error('the subset test images are not loaded');
      await ctx.engine().request('setPreviewData', { set: subset.test });
      // Handed over (transferred), not copied: the page keeps no second 150 MB.
      await useSet('train', full.train, [full.train.pixels.buffer, full.train.labels.buffer]);
      await useSet('test', full.test, [full.test.pixels.buffer, full.test.labels.buffer]);
    } catch (e) {
      updateFull({ status: 'error', error: message(e) });
      notify(`The full CIFAR-10 could not be used: ${message(e)}`, 'error', 'fullData');
      return;
    }
    updateFull({ status: 'ready', loaded: get().fullData.total ?? 0 });
    await afterDataSetChange();
  }

  function whenNoJob(): Promise<void> {
    return new Promise((resolve) => {
      if (!get().job) return resolve();
      const stop = ctx.store.subscribe((s) => {
        if (s.job) return;
        stop();
        resolve();
      });
    });
  }

  /** Stops the download; the subset stays in use and the picker goes back to it. */
  function cancelFullData(say = true): void {
    const abort = fullAbort;
    if (!abort) return;
    fullAbort = null;
    abort.abort();
    updateFull({ status: 'idle', loaded: 0, total: null, file: '', error: null });
    if (get().settings.data === 'full') ctx.setSettings({ ...get().settings, data: 'subset' });
    if (say) notify('The full CIFAR-10 download was cancelled; the 5,000/1,000-image subset stays in use.', 'info');
  }

  /** After the data set changed: the pretrained baseline follows it (not the user's own), then it is measured again. */
  async function afterDataSetChange(): Promise<void> {
    const s = get();
    if (s.baseline.origin.kind === 'pretrained' && s.baseline.origin.trainedHere === 0 && s.settings.baseline === 'pretrained') {
      await ctx.cross.defaultBaseline(s.settings.model, true, s.settings.seed);
    }
    if (ctx.dataReady()) await afterDataChange();
  }

  return { prefetchData, loadData, retryData, loadUserFiles, afterDataChange, pickData, loadFullData, cancelFullData };
}
