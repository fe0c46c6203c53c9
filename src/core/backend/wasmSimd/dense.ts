/**
 * A WebAssembly SIMD kernel for an evaluation-time dense layer with few outputs (every model's
 * classifier: SimpleCNN's fc1 is [N, 1,024·k] · [1,024·k, 10]):
 *
 *   y[n, o] = b[o] + Σ_f a[n, f] · W[f, o]          (4 ≤ O ≤ 16)
 *
 * Why not tfjs's matMul + add (XNNPACK): each XNNPACK op wakes its pool thread, which then spins
 * for a couple of ms on the second core after the op (measured in the bench page: a [250, 10] add
 * after 50 ms idle took 1.9 ms, 1.75 ms of it CPU on the pool thread). The next call's Winograd conv
 * then starts while that spinner holds the core its helper needs. That was a fixed cost of each
 * inference call that did not shrink with the number of filters (pruned inference at 25 % kept:
 * 3.14× faster for 4× fewer MACs). Here the layer runs on the same helper thread as the conv
 * (index.ts runImageSlices), which sleeps at once after its job, and the bias is added in the same
 * pass.
 *
 * Each image's outputs are computed alone (W's rows in chunks of CHUNK_BYTES so a chunk stays in
 * L2 while IB images stream past it; the chunking depends on F and O only), so results do not
 * depend on which thread ran which images. The O outputs are ceil(O/4) vectors, the last one
 * ending at output O (it overlaps the one before when O % 4 ≠ 0: the shared lanes get the same
 * operations, hence the same values) — no read or write beyond a row of W, y or b.
 *
 *   dense(a, w, b, y, F, n0, n1)     images [n0, n1) of a [N, F] → y [N, O]; byte addresses
 */
import { Fn, I32, V128, moduleBytes, relaxedVariants } from './asm';

export const DENSE_MIN_OUT = 4;
export const DENSE_MAX_OUT = 16;
/** Bytes of W's rows per chunk: well inside a core's L2 (512 KB on the EPYC VMs here). */
const CHUNK_BYTES = 128 * 1024;

/** Byte offset of output vector v of a row (the last one ends at output O). */
const vectorOffsets = (O: number) => {
  const vs = Math.ceil(O / 4);
  return Array.from({ length: vs }, (_, v) => (v < vs - 1 ? 16 * v : (O - 4) * 4));
};

/** Images per pass over a chunk of W: the accumulators, W's vectors and a splat fit x64's 16 xmm registers. */
const imagesPerPass = (O: number) => {
  const vs = Math.ceil(O / 4);
  return vs <= 2 ? 4 : vs === 3 ? 3 : 2;
};

function denseFn(O: number, relaxed: boolean): Fn {
  const f = new Fn([I32, I32, I32, I32, I32, I32, I32]);
  const [a, w, b, y, F, n0, n1] = [0, 1, 2, 3, 4, 5, 6];
  const offs = vectorOffsets(O);
  const IB = imagesPerPass(O);
  const fc = Math.max(1, Math.floor(CHUNK_BYTES / (O * 4)));
  const i32 = () => f.local(I32);
  const [n, c, cEnd, rowBytes, pw, paEnd, py, groupEnd] = Array.from({ length: 8 }, i32);
  const pa = Array.from({ length: IB }, i32);
  const acc = Array.from({ length: IB * offs.length }, () => f.local(V128));
  const wv = offs.map(() => f.local(V128));
  const sp = f.local(V128);

  f.get(F).i32(2).shl().set(rowBytes);
  // y = b for the range; every chunk then adds its part
  f.forRange(n, () => f.get(n0), n1, 1, () => {
    f.get(y).get(n).i32(O * 4).mul().add().set(py);
    for (const o of offs) f.get(py).get(b).v128load(o).v128store(o);
  });

  /** ib images from n: y[n..n+ib) += a[n..n+ib)[c, cEnd) · W[c, cEnd). */
  const pass = (ib: number) => {
    f.get(y).get(n).i32(O * 4).mul().add().set(py);
    for (let i = 0; i < ib; i++) for (let v = 0; v < offs.length; v++) f.get(py).v128load(i * O * 4 + offs[v]).set(acc[i * offs.length + v]);
    f.get(a).get(n).get(rowBytes).mul().add().get(c).i32(2).shl().add().set(pa[0]);
    for (let i = 1; i < ib; i++) f.get(pa[i - 1]).get(rowBytes).add().set(pa[i]);
    f.get(w).get(c).i32(O * 4).mul().add().set(pw);
    f.get(pa[0]).get(cEnd).get(c).sub().i32(2).shl().add().set(paEnd);
    const id = `row${ib}_${f.code.length}`;
    f.loop(id, () => {
      offs.forEach((o, v) => f.get(pw).v128load(o).set(wv[v]));
      for (let i = 0; i < ib; i++) {
        f.get(pa[i]).v128load32splat().set(sp);
        for (let v = 0; v < offs.length; v++) {
          const ac = acc[i * offs.length + v];
          if (relaxed) f.get(sp).get(wv[v]).get(ac).f32x4relaxedMadd().set(ac);
          else f.get(ac).get(sp).get(wv[v]).f32x4mul().f32x4add().set(ac);
        }
        f.get(pa[i]).i32(4).add().set(pa[i]);
      }
      f.get(pw).i32(O * 4).add().set(pw);
      f.get(pa[0]).get(paEnd).ltU().brIf(id);
    });
    for (let i = 0; i < ib; i++) for (let v = 0; v < offs.length; v++) f.get(py).get(acc[i * offs.length + v]).v128store(i * O * 4 + offs[v]);
  };

  f.get(n1).i32(IB - 1).sub().set(groupEnd);
  f.i32(0).set(c);
  f.block('none', () => {
    f.get(F).eqz().brIf('none');
    f.loop('chunk', () => {
      // cEnd = min(c + fc, F)
      f.get(c).i32(fc).add().get(F).get(c).i32(fc).add().get(F).ltS().select().set(cEnd);
      f.get(n0).set(n);
      f.block('groupsDone', () => {
        f.loop('groups', () => {
          f.get(n).get(groupEnd).geS().brIf('groupsDone');
          pass(IB);
          f.get(n).i32(IB).add().set(n);
          f.br('groups');
        });
      });
      if (IB > 1) {
        f.block('tailDone', () => {
          f.loop('tail', () => {
            f.get(n).get(n1).geS().brIf('tailDone');
            pass(1);
            f.get(n).i32(1).add().set(n);
            f.br('tail');
          });
        });
      }
      f.get(cEnd).set(c);
      f.get(c).get(F).ltS().brIf('chunk');
    });
  });
  return f;
}

export function denseBytes(O: number, relaxed: boolean, shared: boolean): Uint8Array<ArrayBuffer> {
  return moduleBytes({ shared }, [{ name: 'dense', fn: denseFn(O, relaxed) }]);
}

export interface DenseModule {
  relaxed: boolean;
  dense: (a: number, w: number, b: number, y: number, F: number, n0: number, n1: number) => void;
  /** The compiled module (helper threads instantiate it too). */
  module: WebAssembly.Module;
}

/** The kernel for O outputs on `memory` (relaxed SIMD when validated), or null without SIMD. */
export function instantiateDense(O: number, memory: WebAssembly.Memory, shared: boolean): DenseModule | null {
  if (O < DENSE_MIN_OUT || O > DENSE_MAX_OUT) return null;
  for (const relaxed of relaxedVariants()) {
    const bytes = denseBytes(O, relaxed, shared);
    if (!WebAssembly.validate(bytes)) continue;
    const module = new WebAssembly.Module(bytes);
    const inst = new WebAssembly.Instance(module, { env: { memory } });
    return { relaxed, dense: inst.exports.dense as DenseModule['dense'], module };
  }
  return null;
}
