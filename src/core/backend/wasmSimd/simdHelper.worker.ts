/// <reference lib="webworker" />
/** Helper thread of the SIMD kernels (see parallel.ts): one init message, then jobs through Atomics. */
import { type HelperInit, serveForever } from './parallel';

declare const self: DedicatedWorkerGlobalScope;

self.onmessage = (ev: MessageEvent<HelperInit>) => serveForever(ev.data);
