/// <reference lib="webworker" />
/** Helper thread of the SIMD kernels (see parallel.ts): an init message, then jobs through Atomics; `add` messages bring more kernels. */
import { type HelperInit, serve } from './parallel';

declare const self: DedicatedWorkerGlobalScope;

let helper: ReturnType<typeof serve> | null = null;
self.onmessage = (ev: MessageEvent<HelperInit | { add: WebAssembly.Module[] }>) => {
  if ('add' in ev.data) helper?.add(ev.data.add);
  else helper = serve(ev.data);
};
