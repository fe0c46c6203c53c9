/**
 * WebAssembly SIMD kernels for a BatchNorm (batch statistics) + ReLU + optional 2×2 max-pool block,
 * NHWC, viewed as M = N·H·W rows of C channels. Each is one pass over the activations, vectorised
 * over channels (4 at a time, scalar tail for C % 4):
 *
 *   moments(src, M, C, shift, s1, s2)         s1[c] += Σ_m (src[m, c] − shift[c]), s2[c] += Σ_m (…)²
 *                                             (one pass for mean and variance: shifted by a sample of
 *                                             the channel, the variance loses no precision to cancellation)
 *   affineRelu(src, M, C, a, b, dst)          dst = max(src·a + b, 0)
 *   maskSums(dy, y, z, M, C, mean, rstd, s1, s2, du)   du = dy · (y > 0), and bwdSums of it (one pass)
 *   bwdSums(du, z, M, C, mean, rstd, s1, s2)  s1[c] += Σ du, s2[c] += Σ du·(z − mean)·rstd
 *   bwdDz(du, z, M, C, mean, rstd, a, k1, k2, dz)   dz = a·du − k1 − (z − mean)·rstd·k2
 *
 * With the 2×2/2 max-pool, the forward pass keeps only what the backward pass needs, at a quarter of
 * the activations' size (not the activations: two full-size passes less per block):
 *   poolFwd(src, N, H, W, C, a, b, pooled, zsel, code)   pooled = max of the window's four
 *       y = max(src·a + b, 0); code = the first pixel (row-major, as tfjs's cpu max-pool gradient)
 *       holding it, 4 when the maximum is 0 (the ReLU zeroed the window: no gradient); zsel = src there
 *   poolSums(dp, zsel, code, M, C, mean, rstd, s1, s2)   bwdSums over the pooled rows: du = dp where code < 4
 *   poolDz(dp, z, code, N, H, W, C, mean, rstd, a, k1, k2, dz)   bwdDz with du = dp at the code's pixel
 *
 * A second module (each stays under 4 KB) holds the BatchNorm that feeds no ReLU of its own (ResNet's
 * BatchNorm before the add, and the shortcut's):
 *   affine(src, M, C, a, b, dst)              dst = src·a + b
 *   affineAddRelu(src, M, C, a, b, res, dst)  dst = max(src·a + b + res, 0)  (BatchNorm → add → ReLU)
 * Their backward passes are the kernels above: bwdSums / bwdDz read du = dy directly (plain), or
 * maskSums masks dy by the output (add + ReLU) into du, which is also the residual input's gradient.
 * It also holds the backward of BatchNorm + ReLU without the pool that takes the ReLU's mask from z
 * (a, b the forward's affine map, recomputed bit for bit from γ, β, μ and rstd):
 *   reluSumsZ(dy, z, M, C, a, b, mean, rstd, s1, s2)       bwdSums of du = dy · (z·a + b > 0)
 *   reluSumsZCols(…)                                      the same, channel by channel (columnsFn)
 *   maskSumsCols(…)                                       maskSums channel by channel (columnsFn)
 *   reluDzZ(dy, z, M, C, a, b, mean, rstd, k1, k2, dz)     bwdDz of that du
 * z·a + b > 0 exactly where affineRelu's output is (same operations in the same order): the two
 * passes read dy and z, not also y, and du is never stored — five passes over the activations
 * instead of maskSums + bwdDz's seven.
 *
 * Addresses are byte offsets into the tfjs wasm backend's memory (see index.ts).
 */
import { F32, Fn, I32, V128, moduleBytes } from './asm';

type Mode = 'v' | 's';

/** Emits the loop `for c in channels` twice: 4 lanes at a time, then the scalar tail. */
function eachChannel(f: Fn, C: number, cb: number, cv: number, body: (m: Mode) => void): void {
  // cv = C & ~3 (in channels); cb = byte offset of channel c
  f.get(C).i32(-4).and().set(cv);
  const c = f.local(I32);
  f.forRange(c, () => f.i32(0), cv, 4, () => {
    f.get(c).i32(2).shl().set(cb);
    body('v');
  });
  f.forRange(c, () => f.get(cv), C, 1, () => {
    f.get(c).i32(2).shl().set(cb);
    body('s');
  });
}

const load = (f: Fn, m: Mode) => (m === 'v' ? f.v128load() : f.f32load());
const store = (f: Fn, m: Mode) => (m === 'v' ? f.v128store() : f.f32store());
const add = (f: Fn, m: Mode) => (m === 'v' ? f.f32x4add() : f.f32add());
const sub = (f: Fn, m: Mode) => (m === 'v' ? f.f32x4sub() : f.f32sub());
const mul = (f: Fn, m: Mode) => (m === 'v' ? f.f32x4mul() : f.f32mul());
/** [x] → [x > 0] as a lane mask (v) or i32 (s). */
function gt0(f: Fn, m: Mode, zero: number) {
  if (m === 'v') f.get(zero).f32x4gt();
  else f.f32(0).f32gt();
}
/** [val, cond] → val where cond, else 0. */
function keep(f: Fn, m: Mode) {
  if (m === 'v') f.v128and();
  else f.f32fromU32().f32mul();
}

/** at(base) pushes base + cb (byte address of channel c in a row or a per-channel array). */
const at = (f: Fn, base: number, cb: number) => f.get(base).get(cb).add();

function rowsFn(nParams: number, body: (f: Fn, p: number[], row: (base: number) => number, cb: number, m: Mode, zero: number) => void, rowBases: number[], M: number, C: number): Fn {
  const f = new Fn(Array.from({ length: nParams }, () => I32));
  const p = Array.from({ length: nParams }, (_, i) => i);
  const cb = f.local(I32);
  const cv = f.local(I32);
  const mi = f.local(I32);
  const rowOff = f.local(I32);
  const zero = f.local(V128);
  f.f32(0).f32x4splat().set(zero);
  const rowLocals = new Map(rowBases.map((b) => [b, f.local(I32)]));
  f.forRange(mi, () => f.i32(0), M, 1, () => {
    f.get(mi).get(C).mul().i32(2).shl().set(rowOff);
    for (const [b, l] of rowLocals) f.get(b).get(rowOff).add().set(l);
    eachChannel(f, C, cb, cv, (m) => body(f, p, (base) => rowLocals.get(base)!, cb, m, zero));
  });
  return f;
}

function buildFns(): Array<{ name: string; fn: Fn }> {
  const fns: Array<{ name: string; fn: Fn }> = [];
  // moments(src, M, C, shift, s1, s2)
  {
    let tv = -1;
    let ts = -1;
    const fn = rowsFn(6, (f, [src, , , shift, s1, s2], row, cb, m) => {
      if (tv < 0) { tv = f.local(V128); ts = f.local(F32); }
      const t = m === 'v' ? tv : ts;
      at(f, row(src), cb); load(f, m); at(f, shift, cb); load(f, m); sub(f, m); f.set(t);
      at(f, s1, cb); at(f, s1, cb); load(f, m); f.get(t); add(f, m); store(f, m);
      at(f, s2, cb); at(f, s2, cb); load(f, m); f.get(t); f.get(t); mul(f, m); add(f, m); store(f, m);
    }, [0], 1, 2);
    fns.push({ name: 'moments', fn });
  }
  // affineRelu(src, M, C, a, b, dst)
  fns.push({
    name: 'affineRelu',
    fn: rowsFn(6, (f, [src, , , a, b, dst], row, cb, m, zero) => {
      at(f, row(dst), cb);
      at(f, row(src), cb); load(f, m); at(f, a, cb); load(f, m); mul(f, m); at(f, b, cb); load(f, m); add(f, m);
      if (m === 'v') f.get(zero).f32x4max();
      else f.f32(0).f32max();
      store(f, m);
    }, [0, 5], 1, 2),
  });
  // maskSums(dy, y, z, M, C, mean, rstd, s1, s2, du): du = dy·(y > 0) written, and bwdSums of it in the same pass
  {
    let tv = -1;
    let ts = -1;
    const fn = rowsFn(10, (f, [dy, y, z, , , mean, rstd, s1, s2, du], row, cb, m, zero) => {
      if (tv < 0) { tv = f.local(V128); ts = f.local(F32); }
      const t = m === 'v' ? tv : ts;
      at(f, row(dy), cb); load(f, m); at(f, row(y), cb); load(f, m); gt0(f, m, zero); keep(f, m); f.set(t);
      at(f, row(du), cb); f.get(t); store(f, m);
      at(f, s1, cb); at(f, s1, cb); load(f, m); f.get(t); add(f, m); store(f, m);
      at(f, s2, cb); at(f, s2, cb); load(f, m);
      f.get(t); at(f, row(z), cb); load(f, m); at(f, mean, cb); load(f, m); sub(f, m); mul(f, m); at(f, rstd, cb); load(f, m); mul(f, m);
      add(f, m); store(f, m);
    }, [0, 1, 2, 9], 3, 4);
    fns.push({ name: 'maskSums', fn });
  }
  // bwdSums(du, z, M, C, mean, rstd, s1, s2)
  {
    let tv = -1;
    let ts = -1;
    const fn = rowsFn(8, (f, [du, z, , , mean, rstd, s1, s2], row, cb, m) => {
      if (tv < 0) { tv = f.local(V128); ts = f.local(F32); }
      const t = m === 'v' ? tv : ts;
      at(f, row(du), cb); load(f, m); f.set(t);
      at(f, s1, cb); at(f, s1, cb); load(f, m); f.get(t); add(f, m); store(f, m);
      at(f, s2, cb); at(f, s2, cb); load(f, m);
      f.get(t); at(f, row(z), cb); load(f, m); at(f, mean, cb); load(f, m); sub(f, m); mul(f, m); at(f, rstd, cb); load(f, m); mul(f, m);
      add(f, m); store(f, m);
    }, [0, 1], 2, 3);
    fns.push({ name: 'bwdSums', fn });
  }
  // bwdDz(du, z, M, C, mean, rstd, a, k1, k2, dz)
  fns.push({
    name: 'bwdDz',
    fn: rowsFn(10, (f, [du, z, , , mean, rstd, a, k1, k2, dz], row, cb, m) => {
      at(f, row(dz), cb);
      at(f, a, cb); load(f, m); at(f, row(du), cb); load(f, m); mul(f, m);
      at(f, k1, cb); load(f, m); sub(f, m);
      at(f, row(z), cb); load(f, m); at(f, mean, cb); load(f, m); sub(f, m); at(f, rstd, cb); load(f, m); mul(f, m); at(f, k2, cb); load(f, m); mul(f, m);
      sub(f, m);
      store(f, m);
    }, [0, 1, 9], 2, 3),
  });
  fns.push({ name: 'poolFwd', fn: poolFwdFn() });
  // poolSums(dp, zsel, code, M, C, mean, rstd, s1, s2)
  {
    let tv = -1;
    let ts = -1;
    const fn = rowsFn(9, (f, [dp, zsel, code, , , mean, rstd, s1, s2], row, cb, m) => {
      if (tv < 0) { tv = f.local(V128); ts = f.local(F32); }
      const t = m === 'v' ? tv : ts;
      at(f, row(dp), cb); load(f, m);
      f.f32(4); if (m === 'v') f.f32x4splat();
      at(f, row(code), cb); load(f, m);
      if (m === 'v') f.f32x4gt(); else f.f32gt();
      keep(f, m); f.set(t);
      at(f, s1, cb); at(f, s1, cb); load(f, m); f.get(t); add(f, m); store(f, m);
      at(f, s2, cb); at(f, s2, cb); load(f, m);
      f.get(t); at(f, row(zsel), cb); load(f, m); at(f, mean, cb); load(f, m); sub(f, m); mul(f, m); at(f, rstd, cb); load(f, m); mul(f, m);
      add(f, m); store(f, m);
    }, [0, 1, 2], 3, 4);
    fns.push({ name: 'poolSums', fn });
  }
  fns.push({ name: 'poolDz', fn: poolDzFn() });
  return fns;
}

/** poolFwd(src, N, H, W, C, a, b, pooled, zsel, code): see the file comment. */
function poolFwdFn(): Fn {
  const f = new Fn(Array.from({ length: 10 }, () => I32));
  const [src, N, H, W, C, a, b, pooled, zsel, code] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
  const [pg, cb, cv] = Array.from({ length: 3 }, () => f.local(I32));
  const pos = Array.from({ length: 4 }, () => f.local(I32));
  const zero = f.local(V128);
  const [zv, yv, ev] = [0, 1, 2].map(() => Array.from({ length: 4 }, () => f.local(V128)));
  const [zs, ys] = [0, 1].map(() => Array.from({ length: 4 }, () => f.local(F32)));
  const es = Array.from({ length: 4 }, () => f.local(I32));
  const [mxv, mxs] = [f.local(V128), f.local(F32)];
  f.f32(0).f32x4splat().set(zero);
  eachPoolWindow(f, [N, H, W, C], pos, pg, () => {
    eachChannel(f, C, cb, cv, (m) => {
      const [Z, Y, E, mx] = m === 'v' ? [zv, yv, ev, mxv] : [zs, ys, es, mxs];
      for (let k = 0; k < 4; k++) {
        f.get(src).get(pos[k]).add().get(cb).add(); load(f, m); f.tee(Z[k]);
        at(f, a, cb); load(f, m); mul(f, m); at(f, b, cb); load(f, m); add(f, m);
        if (m === 'v') f.get(zero).f32x4max();
        else f.f32(0).f32max();
        f.set(Y[k]);
      }
      const pooledAt = () => f.get(pg).get(cb).add();
      if (m === 'v') {
        f.get(Y[0]).get(Y[1]).f32x4max().get(Y[2]).get(Y[3]).f32x4max().f32x4max().set(mx);
        f.get(Y[0]).get(mx).f32x4eq().set(E[0]);
        f.get(Y[1]).get(mx).f32x4eq().get(E[0]).v128andnot().set(E[1]);
        f.get(Y[2]).get(mx).f32x4eq().get(E[0]).get(E[1]).v128or().v128andnot().set(E[2]);
        f.get(Y[3]).get(mx).f32x4eq().get(E[0]).get(E[1]).v128or().get(E[2]).v128or().v128andnot().set(E[3]);
        f.get(pooled); pooledAt().add().get(mx).v128store();
        f.get(zsel); pooledAt().add();
        f.get(Z[0]).get(E[0]).v128and().get(Z[1]).get(E[1]).v128and().v128or().get(Z[2]).get(E[2]).v128and().v128or().get(Z[3]).get(E[3]).v128and().v128or();
        f.v128store();
        // code: 1·E1 + 2·E2 + 3·E3 where the maximum is > 0, else 4
        f.get(code); pooledAt().add();
        f.f32(1).f32x4splat().get(E[1]).v128and().f32(2).f32x4splat().get(E[2]).v128and().f32x4add().f32(3).f32x4splat().get(E[3]).v128and().f32x4add();
        f.get(mx).get(zero).f32x4gt().tee(E[0]).v128and().f32(4).f32x4splat().get(E[0]).v128andnot().v128or();
        f.v128store();
      } else {
        f.get(Y[0]).get(Y[1]).f32max().get(Y[2]).get(Y[3]).f32max().f32max().set(mx);
        for (let k = 0; k < 4; k++) f.get(Y[k]).get(mx).f32eq().set(E[k]);
        f.get(pooled); pooledAt().add().get(mx).f32store();
        f.get(zsel); pooledAt().add();
        f.get(Z[0]).get(Z[1]).get(Z[2]).get(Z[3]).get(E[2]).select().get(E[1]).select().get(E[0]).select();
        f.f32store();
        f.get(code); pooledAt().add();
        f.f32(0).f32(1).f32(2).f32(3).get(E[2]).select().get(E[1]).select().get(E[0]).select();
        f.f32(4).get(mx).f32(0).f32gt().select(); // mx > 0 ? code : 4
        f.f32store();
      }
    });
  });
  return f;
}

/** poolDz(dp, z, code, N, H, W, C, mean, rstd, a, k1, k2, dz): see the file comment. */
function poolDzFn(): Fn {
  const f = new Fn(Array.from({ length: 13 }, () => I32));
  const [dp, z, code, N, H, W, C, mean, rstd, a, k1, k2, dz] = Array.from({ length: 13 }, (_, i) => i);
  const [pg, cb, cv] = Array.from({ length: 3 }, () => f.local(I32));
  const pos = Array.from({ length: 4 }, () => f.local(I32));
  // Per channel vector: dp, code and the five per-channel factors, loaded once for the window's four pixels.
  const vl = Array.from({ length: 7 }, () => f.local(V128));
  const sl = Array.from({ length: 7 }, () => f.local(F32));
  eachPoolWindow(f, [N, H, W, C], pos, pg, () => {
    eachChannel(f, C, cb, cv, (m) => {
      const [g, cd, A, K1, MEAN, R, K2] = m === 'v' ? vl : sl;
      f.get(dp).get(pg).add().get(cb).add(); load(f, m); f.set(g);
      f.get(code).get(pg).add().get(cb).add(); load(f, m); f.set(cd);
      for (const [local, base] of [[A, a], [K1, k1], [MEAN, mean], [R, rstd], [K2, k2]]) {
        at(f, base, cb); load(f, m); f.set(local);
      }
      for (let k = 0; k < 4; k++) {
        f.get(dz).get(pos[k]).add().get(cb).add();
        // du = g at the code's pixel, else 0; then bwdDz's expression, in its order
        f.get(A).get(g).get(cd).f32(k);
        if (m === 'v') f.f32x4splat().f32x4eq();
        else f.f32eq();
        keep(f, m); mul(f, m);
        f.get(K1); sub(f, m);
        f.get(z).get(pos[k]).add().get(cb).add(); load(f, m); f.get(MEAN); sub(f, m); f.get(R); mul(f, m); f.get(K2); mul(f, m);
        sub(f, m);
        store(f, m);
      }
    });
  });
  return f;
}

/**
 * Emits `for n, i < H/2, j < W/2`: each 2×2/2 pool window of an NHWC [N, H, W, C] tensor, with
 * `pos` set to the byte offsets of its four pixels (row-major) and `pg` to that of the pooled pixel.
 */
function eachPoolWindow(f: Fn, [N, H, W, C]: number[], pos: number[], pg: number, body: () => void): void {
  const [n, i, j, H2, W2] = Array.from({ length: 5 }, () => f.local(I32));
  f.get(H).i32(1).shrU().set(H2);
  f.get(W).i32(1).shrU().set(W2);
  f.forRange(n, () => f.i32(0), N, 1, () => {
    f.forRange(i, () => f.i32(0), H2, 1, () => {
      f.forRange(j, () => f.i32(0), W2, 1, () => {
        f.get(n).get(H).mul().get(i).i32(1).shl().add().get(W).mul().get(j).i32(1).shl().add().get(C).mul().i32(2).shl().set(pos[0]);
        f.get(pos[0]).get(C).i32(2).shl().add().set(pos[1]);
        f.get(pos[0]).get(W).get(C).mul().i32(2).shl().add().set(pos[2]);
        f.get(pos[2]).get(C).i32(2).shl().add().set(pos[3]);
        f.get(n).get(H2).mul().get(i).add().get(W2).mul().get(j).add().get(C).mul().i32(2).shl().set(pg);
        body();
      });
    });
  });
}

function buildResidualFns(): Array<{ name: string; fn: Fn }> {
  return [
    {
      name: 'affine',
      fn: rowsFn(6, (f, [src, , , a, b, dst], row, cb, m) => {
        at(f, row(dst), cb);
        at(f, row(src), cb); load(f, m); at(f, a, cb); load(f, m); mul(f, m); at(f, b, cb); load(f, m); add(f, m);
        store(f, m);
      }, [0, 5], 1, 2),
    },
    {
      name: 'affineAddRelu',
      fn: rowsFn(7, (f, [src, , , a, b, res, dst], row, cb, m, zero) => {
        at(f, row(dst), cb);
        at(f, row(src), cb); load(f, m); at(f, a, cb); load(f, m); mul(f, m); at(f, b, cb); load(f, m); add(f, m);
        at(f, row(res), cb); load(f, m); add(f, m);
        if (m === 'v') f.get(zero).f32x4max();
        else f.f32(0).f32max();
        store(f, m);
      }, [0, 5, 6], 1, 2),
    },
    // reluSumsZCols(dy, z, M, C, a, b, mean, rstd, s1, s2): reluSumsZ channel by channel (for C ≤ 16: see columnsFn)
    { name: 'reluSumsZCols', fn: columnSumsFn('z') },
    // maskSumsCols(dy, y, z, M, C, mean, rstd, s1, s2, du): maskSums channel by channel (for C ≤ 16)
    { name: 'maskSumsCols', fn: columnSumsFn('y') },
    // reluSumsZ(dy, z, M, C, a, b, mean, rstd, s1, s2): maskSums' sums with the mask from z, du not stored
    {
      name: 'reluSumsZ',
      fn: (() => {
        let tv = -1, ts = -1, zv = -1, zs = -1;
        return rowsFn(10, (f, [dy, z, , , a, b, mean, rstd, s1, s2], row, cb, m, zero) => {
          if (tv < 0) { tv = f.local(V128); ts = f.local(F32); zv = f.local(V128); zs = f.local(F32); }
          const t = m === 'v' ? tv : ts;
          const zt = m === 'v' ? zv : zs;
          at(f, row(z), cb); load(f, m); f.set(zt);
          maskedDy(f, m, zero, row(dy), zt, cb, a, b, true); f.set(t);
          at(f, s1, cb); at(f, s1, cb); load(f, m); f.get(t); add(f, m); store(f, m);
          at(f, s2, cb); at(f, s2, cb); load(f, m);
          f.get(t); f.get(zt); at(f, mean, cb); load(f, m); sub(f, m); mul(f, m); at(f, rstd, cb); load(f, m); mul(f, m);
          add(f, m); store(f, m);
        }, [0, 1], 2, 3);
      })(),
    },
    // reluDzZ(dy, z, M, C, a, b, mean, rstd, k1, k2, dz): bwdDz with du = dy·(z·a + b > 0) in registers
    {
      name: 'reluDzZ',
      fn: (() => {
        let zv = -1;
        let zs = -1;
        return rowsFn(11, (f, [dy, z, , , a, b, mean, rstd, k1, k2, dz], row, cb, m, zero) => {
          if (zv < 0) { zv = f.local(V128); zs = f.local(F32); }
          const zt = m === 'v' ? zv : zs;
          at(f, row(z), cb); load(f, m); f.set(zt);
          at(f, row(dz), cb);
          at(f, a, cb); load(f, m);
          maskedDy(f, m, zero, row(dy), zt, cb, a, b, true);
          mul(f, m);
          at(f, k1, cb); load(f, m); sub(f, m);
          f.get(zt); at(f, mean, cb); load(f, m); sub(f, m); at(f, rstd, cb); load(f, m); mul(f, m); at(f, k2, cb); load(f, m); mul(f, m);
          sub(f, m);
          store(f, m);
        }, [0, 1, 10], 2, 3);
      })(),
    },
  ];
}

/**
 * Pushes dy · (z·a + b > 0): dy at byte offset p of its base, z in a local, a and b in locals or (`arrays`)
 * per-channel arrays read at p; z·a + b as affineRelu computes it (mul, then add), then maskSums' keep.
 */
function maskedDy(f: Fn, m: Mode, zero: number, dy: number, z: number, p: number, a: number, b: number, arrays = false) {
  const param = (x: number) => (arrays ? (at(f, x, p), load(f, m)) : f.get(x));
  f.get(dy).get(p).add(); load(f, m);
  f.get(z); param(a); mul(f, m); param(b); add(f, m);
  gt0(f, m, zero); keep(f, m);
}

/**
 * maskSums (`mask` 'y': du = dy·(y > 0) stored) or reluSumsZ (`mask` 'z': the mask from z·a + b, du not
 * stored) channel by channel: s1 += du, s2 += (du·(z − mean))·rstd, in registers over a block's rows.
 */
function columnSumsFn(mask: 'y' | 'z'): Fn {
  // parameter positions: maskSums(dy, y, z, M, C, mean, rstd, s1, s2, du), reluSumsZ(dy, z, M, C, a, b, mean, rstd, s1, s2)
  const [M, C] = mask === 'y' ? [3, 4] : [2, 3];
  return columnsFn(10, M, C, (f, p, m, zero) => {
    const [dy, y, z, a, b, mean, rstd, s1, s2, du] = mask === 'y' ? [p[0], p[1], p[2], -1, -1, p[5], p[6], p[7], p[8], p[9]] : [p[0], -1, p[1], p[4], p[5], p[6], p[7], p[8], p[9], -1];
    const [vMean, vRstd, acc1, acc2, t, zt, va, vb] = channelLocals(f, m, 8);
    const loaded: Array<[number, number]> = [[vMean, mean], [vRstd, rstd], [acc1, s1], [acc2, s2], ...(mask === 'z' ? ([[va, a], [vb, b]] as Array<[number, number]>) : [])];
    return {
      pre: (cb) => {
        for (const [l, base] of loaded) { at(f, base, cb); load(f, m); f.set(l); }
      },
      body: (o) => {
        f.get(z).get(o).add(); load(f, m); f.set(zt);
        if (mask === 'z') maskedDy(f, m, zero, dy, zt, o, va, vb);
        else { f.get(dy).get(o).add(); load(f, m); f.get(y).get(o).add(); load(f, m); gt0(f, m, zero); keep(f, m); }
        f.set(t);
        if (mask === 'y') { f.get(du).get(o).add(); f.get(t); store(f, m); }
        f.get(acc1).get(t); add(f, m); f.set(acc1);
        f.get(acc2); f.get(t); f.get(zt); f.get(vMean); sub(f, m); mul(f, m); f.get(vRstd); mul(f, m); add(f, m); f.set(acc2);
      },
      post: (cb) => {
        at(f, s1, cb); f.get(acc1); store(f, m);
        at(f, s2, cb); f.get(acc2); store(f, m);
      },
    };
  });
}

/** `count` locals of the mode's type (v128 for 'v', f32 for 's'), made once per mode. */
function channelLocals(f: Fn, m: Mode, count: number): number[] {
  return Array.from({ length: count }, () => f.local(m === 'v' ? V128 : F32));
}

/**
 * A pass over M rows of C channels, channel by channel: for each block of rows (~8 KB of each row base),
 * for each vector of 4 channels (then each tail channel), `pre(cb)` loads what the channel needs into
 * locals, `body(p)` runs for every row of the block (p: byte offset of the row's channel from each row
 * base), `post(cb)` stores accumulators. The per-channel parameters and running sums stay in registers
 * over a block's rows, where rowsFn reloads them for every row (its loop is rows, then channels). A
 * channel's rows still go in order, so sums add in the same order as rowsFn's: the same results bit for bit.
 * Measured (ResNet-20 b64 step in the page, 2026-12-07): reluSumsZ's sums at 16 channels 35 % faster than
 * row by row (rowsFn's per-row loop overhead over only four vectors); at 32 and 64 channels slower with
 * cold activations (strided reads per channel vector), and an elementwise pass (reluDzZ) gained nothing.
 */
function columnsFn(
  nParams: number,
  M: number,
  C: number,
  kernel: (f: Fn, p: number[], m: Mode, zero: number) => { pre: (cb: number) => void; body: (p: number) => void; post?: (cb: number) => void },
): Fn {
  const f = new Fn(Array.from({ length: nParams }, () => I32));
  const params = Array.from({ length: nParams }, (_, i) => i);
  const [rowBytes, blockBytes, start, end, stop, cb, c, cv, p] = Array.from({ length: 9 }, () => f.local(I32));
  const zero = f.local(V128);
  f.f32(0).f32x4splat().set(zero);
  const modes = { v: kernel(f, params, 'v', zero), s: kernel(f, params, 's', zero) };
  f.get(C).i32(2).shl().set(rowBytes);
  // rows per block × row bytes: ~8 KB (at least one row)
  f.i32(2048).get(C).divU().tee(blockBytes).eqz().if(() => f.i32(1).set(blockBytes));
  f.get(blockBytes).get(rowBytes).mul().set(blockBytes);
  f.get(M).get(rowBytes).mul().set(stop);
  f.get(C).i32(-4).and().set(cv);
  f.i32(0).set(start);
  f.block('done', () => {
    f.get(stop).eqz().brIf('done');
    f.loop('blocks', () => {
      f.get(start).get(blockBytes).add().tee(end).get(stop).geU().if(() => f.get(stop).set(end));
      const channels = (m: Mode, from: () => void, to: number, step: number) =>
        f.forRange(c, from, to, step, () => {
          f.get(c).i32(2).shl().set(cb);
          modes[m].pre(cb);
          f.get(start).get(cb).add().set(p);
          f.loop('rows', () => {
            modes[m].body(p);
            f.get(p).get(rowBytes).add().tee(p).get(end).get(cb).add().ltU().brIf('rows');
          });
          modes[m].post?.(cb);
        });
      channels('v', () => f.i32(0), cv, 4);
      channels('s', () => f.get(cv), C, 1);
      f.get(end).tee(start).get(stop).ltU().brIf('blocks');
    });
  });
  return f;
}

export type ResidualKernels = Record<'affine' | 'affineAddRelu' | 'maskSumsCols' | 'reluSumsZ' | 'reluSumsZCols' | 'reluDzZ', (...args: number[]) => void>;

export function residualBytes(shared: boolean): Uint8Array<ArrayBuffer> {
  return moduleBytes({ shared }, buildResidualFns());
}

/** The BatchNorm-without-its-own-ReLU kernels on `memory`, and their module (for the helper threads). */
export function instantiateResidual(memory: WebAssembly.Memory, shared: boolean): { kernels: ResidualKernels; module: WebAssembly.Module } | null {
  const bytes = residualBytes(shared);
  if (!WebAssembly.validate(bytes)) return null;
  const module = new WebAssembly.Module(bytes);
  return { kernels: new WebAssembly.Instance(module, { env: { memory } }).exports as unknown as ResidualKernels, module };
}

export type BatchNormKernels = Record<'moments' | 'affineRelu' | 'maskSums' | 'bwdSums' | 'bwdDz' | 'poolFwd' | 'poolSums' | 'poolDz', (...args: number[]) => void>;

export function batchNormBytes(shared: boolean): Uint8Array<ArrayBuffer> {
  return moduleBytes({ shared }, buildFns());
}

/** The kernels on `memory`, and their compiled module for helper threads to instantiate too (parallel.ts). */
export function instantiateBatchNorm(memory: WebAssembly.Memory, shared: boolean): { kernels: BatchNormKernels; module: WebAssembly.Module } | null {
  const bytes = batchNormBytes(shared);
  if (!WebAssembly.validate(bytes)) return null;
  const module = new WebAssembly.Module(bytes);
  return { kernels: new WebAssembly.Instance(module, { env: { memory } }).exports as unknown as BatchNormKernels, module };
}
