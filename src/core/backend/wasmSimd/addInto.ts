/**
 * dst[i] += src[i] over a run of floats, 4 at a time: the sum of the per-slice accumulators of a split
 * kernel (index.ts addSlicesInto). Why a kernel: the filter gradients' accumulators are large
 * (F(3×3, 4×4) at 64 → 64 channels: 147,456 floats per slice), and a JavaScript loop over six of them
 * plus a fresh result array ran on the calling thread alone after every such job.
 */
import { Fn, I32, moduleBytes } from './asm';

/** add(dst, src, bytes): bytes a multiple of 16. */
function addFn(): Fn {
  const f = new Fn([I32, I32, I32]);
  const [dst, src, bytes] = [0, 1, 2];
  const p = f.local(I32);
  f.forRange(p, () => f.i32(0), bytes, 16, () => {
    f.get(dst).get(p).add();
    f.get(dst).get(p).add().v128load();
    f.get(src).get(p).add().v128load();
    f.f32x4add().v128store();
  });
  return f;
}

export function addIntoBytes(shared: boolean): Uint8Array<ArrayBuffer> {
  return moduleBytes({ shared }, [{ name: 'add', fn: addFn() }]);
}

export type AddInto = (dst: number, src: number, bytes: number) => void;

/** The kernel on `memory`, or null where the engine has no SIMD. */
export function instantiateAddInto(memory: WebAssembly.Memory, shared: boolean): AddInto | null {
  const bytes = addIntoBytes(shared);
  if (!WebAssembly.validate(bytes)) return null;
  return new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } }).exports.add as AddInto;
}
