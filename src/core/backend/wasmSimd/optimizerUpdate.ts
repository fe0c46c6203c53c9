/**
 * WebAssembly SIMD kernels for the optimiser updates, one pass per variable:
 *
 *   adam(w, g, m, v, n, P, wOut, mOut, vOut)      P = [β1, 1−β1, β2, 1−β2, 1−β1ᵗ, 1−β2ᵗ, ε, −lr]
 *     m' = m·β1 + g·(1−β1);  v' = v·β2 + g²·(1−β2)
 *     w' = (m'/(1−β1ᵗ)) / (√(v'/(1−β2ᵗ)) + ε) · (−lr) + w
 *   momentum(w, g, a, n, P, wOut, aOut)           P = [μ, −lr]
 *     a' = μ·a + g;  w' = (−lr)·a' + w
 *
 * The same operations in the same order as tfjs's AdamOptimizer / MomentumOptimizer (no fused
 * multiply-add), so results are those of the tfjs ops. Why: tfjs runs ~12 small kernels per variable
 * per step (Square, Identity, Mul, Add, RealDiv, Sqrt…); for ConvNet-3's 11 variables that
 * dispatching costs more than the arithmetic. Addresses are byte offsets into the backend's memory.
 */
import { F32, Fn, I32, V128, moduleBytes } from './asm';

type Mode = 'v' | 's';
const load = (f: Fn, m: Mode) => (m === 'v' ? f.v128load() : f.f32load());
const store = (f: Fn, m: Mode) => (m === 'v' ? f.v128store() : f.f32store());
const add = (f: Fn, m: Mode) => (m === 'v' ? f.f32x4add() : f.f32add());
const mul = (f: Fn, m: Mode) => (m === 'v' ? f.f32x4mul() : f.f32mul());
const div = (f: Fn, m: Mode) => (m === 'v' ? f.f32x4div() : f.f32div());
const sqrt = (f: Fn, m: Mode) => (m === 'v' ? f.f32x4sqrt() : f.f32sqrt());

/**
 * Emits `for i in [0, n)`: 4 lanes at a time, then the scalar tail. `consts(m)` are locals holding the
 * parameters (splatted vectors for 'v', floats for 's'); `body(m, addr)` gets the byte offset of element i.
 */
function elementwise(f: Fn, n: number, params: number, count: number, body: (m: Mode, k: number[], at: number) => void): void {
  const vecK = Array.from({ length: count }, () => f.local(V128));
  const sclK = Array.from({ length: count }, () => f.local(F32));
  for (let j = 0; j < count; j++) {
    f.get(params).f32load(4 * j).set(sclK[j]);
    f.get(sclK[j]).f32x4splat().set(vecK[j]);
  }
  const [i, nv, at] = [f.local(I32), f.local(I32), f.local(I32)];
  f.get(n).i32(-4).and().set(nv);
  f.forRange(i, () => f.i32(0), nv, 4, () => {
    f.get(i).i32(2).shl().set(at);
    body('v', vecK, at);
  });
  f.forRange(i, () => f.get(nv), n, 1, () => {
    f.get(i).i32(2).shl().set(at);
    body('s', sclK, at);
  });
}

function adamFn(): Fn {
  const f = new Fn([I32, I32, I32, I32, I32, I32, I32, I32, I32]);
  const [w, g, m, v, n, P, wOut, mOut, vOut] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  const [mNew, vNew] = [f.local(V128), f.local(V128)];
  const [mNewS, vNewS] = [f.local(F32), f.local(F32)];
  elementwise(f, n, P, 8, (mode, [b1, omb1, b2, omb2, c1, c2, eps, nlr], at) => {
    const [mn, vn] = mode === 'v' ? [mNew, vNew] : [mNewS, vNewS];
    const at_ = (base: number) => f.get(base).get(at).add();
    // m' = m·β1 + g·(1−β1)
    at_(m); load(f, mode); f.get(b1); mul(f, mode);
    at_(g); load(f, mode); f.get(omb1); mul(f, mode);
    add(f, mode); f.set(mn);
    // v' = v·β2 + (g·g)·(1−β2)
    at_(v); load(f, mode); f.get(b2); mul(f, mode);
    at_(g); load(f, mode); at_(g); load(f, mode); mul(f, mode); f.get(omb2); mul(f, mode);
    add(f, mode); f.set(vn);
    at_(mOut); f.get(mn); store(f, mode);
    at_(vOut); f.get(vn); store(f, mode);
    // w' = (m'/c1) / (√(v'/c2) + ε) · (−lr) + w
    at_(wOut);
    f.get(mn).get(c1); div(f, mode);
    f.get(vn).get(c2); div(f, mode); sqrt(f, mode); f.get(eps); add(f, mode);
    div(f, mode); f.get(nlr); mul(f, mode);
    at_(w); load(f, mode); add(f, mode);
    store(f, mode);
  });
  return f;
}

function momentumFn(): Fn {
  const f = new Fn([I32, I32, I32, I32, I32, I32, I32]);
  const [w, g, a, n, P, wOut, aOut] = [0, 1, 2, 3, 4, 5, 6];
  const aNew = f.local(V128);
  const aNewS = f.local(F32);
  elementwise(f, n, P, 2, (mode, [mu, nlr], at) => {
    const an = mode === 'v' ? aNew : aNewS;
    const at_ = (base: number) => f.get(base).get(at).add();
    // a' = μ·a + g
    f.get(mu); at_(a); load(f, mode); mul(f, mode);
    at_(g); load(f, mode); add(f, mode); f.set(an);
    at_(aOut); f.get(an); store(f, mode);
    // w' = (−lr)·a' + w
    at_(wOut); f.get(nlr); f.get(an); mul(f, mode); at_(w); load(f, mode); add(f, mode); store(f, mode);
  });
  return f;
}

export function optimizerUpdateBytes(shared: boolean): Uint8Array<ArrayBuffer> {
  return moduleBytes({ shared }, [
    { name: 'adam', fn: adamFn() },
    { name: 'momentum', fn: momentumFn() },
  ]);
}

export interface OptimizerUpdateKernels {
  adam: (...args: number[]) => void;
  momentum: (...args: number[]) => void;
}

export function instantiateOptimizerUpdate(memory: WebAssembly.Memory, shared: boolean): OptimizerUpdateKernels | null {
  const bytes = optimizerUpdateBytes(shared);
  if (!WebAssembly.validate(bytes)) return null;
  const inst = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } });
  return inst.exports as unknown as OptimizerUpdateKernels;
}
