/**
 * A minimal WebAssembly assembler: just enough of the binary format to write a SIMD kernel as
 * TypeScript and get a module's bytes at run time. No toolchain, nothing prebuilt: the source of
 * the kernel is the code that calls these functions (see filterGrad.ts), and what it emits is
 * checked against the cpu backend by the unit tests.
 *
 * Encoding per the WebAssembly core spec (binary format) and the SIMD / relaxed-SIMD proposals.
 */

export const I32 = 0x7f;
export const V128 = 0x7b;
export const F32 = 0x7d;

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

const bytesOf = (s: string) => [...new TextEncoder().encode(s)];
const vec = (items: number[][]) => [...uleb(items.length), ...items.flat()];
const section = (id: number, body: number[]) => [id, ...uleb(body.length), ...body];

/** Function body builder: locals are numbered after the parameters; labels are named. */
export class Fn {
  readonly code: number[] = [];
  private readonly labels: string[] = [];
  private readonly localTypes: number[] = [];

  constructor(
    readonly params: number[],
    private readonly nParams = params.length,
  ) {}

  local(type: number): number {
    this.localTypes.push(type);
    return this.nParams + this.localTypes.length - 1;
  }

  private op(...b: number[]): this {
    this.code.push(...b);
    return this;
  }
  private simd(opcode: number, ...imm: number[]): this {
    return this.op(0xfd, ...uleb(opcode), ...imm);
  }
  private depth(label: string): number {
    const i = this.labels.lastIndexOf(label);
    if (i < 0) throw new Error(`asm: no label ${label}`);
    return this.labels.length - 1 - i;
  }

  get(l: number) { return this.op(0x20, ...uleb(l)); }
  set(l: number) { return this.op(0x21, ...uleb(l)); }
  tee(l: number) { return this.op(0x22, ...uleb(l)); }
  i32(c: number) { return this.op(0x41, ...sleb(c | 0)); }
  f32(c: number) {
    const b = new Uint8Array(new Float32Array([c]).buffer);
    return this.op(0x43, ...b);
  }
  add() { return this.op(0x6a); }
  sub() { return this.op(0x6b); }
  mul() { return this.op(0x6c); }
  divU() { return this.op(0x6e); }
  remU() { return this.op(0x70); }
  and() { return this.op(0x71); }
  shl() { return this.op(0x74); }
  shrU() { return this.op(0x76); }
  ltU() { return this.op(0x49); }
  ltS() { return this.op(0x48); }
  geS() { return this.op(0x4e); }
  geU() { return this.op(0x4f); }
  eqz() { return this.op(0x45); }
  or() { return this.op(0x72); }
  select() { return this.op(0x1b); }
  f32gt() { return this.op(0x5e); }
  f32eq() { return this.op(0x5b); }
  f32add() { return this.op(0x92); }
  f32sub() { return this.op(0x93); }
  f32mul() { return this.op(0x94); }
  f32max() { return this.op(0x97); }
  f32fromU32() { return this.op(0xb3); }
  i32ne() { return this.op(0x47); }
  f32load(offset = 0) { return this.op(0x2a, 2, ...uleb(offset)); }
  f32store(offset = 0) { return this.op(0x38, 2, ...uleb(offset)); }
  v128load(offset = 0) { return this.simd(0x00, 0, ...uleb(offset)); }
  v128load32splat(offset = 0) { return this.simd(0x09, 2, ...uleb(offset)); }
  v128store(offset = 0) { return this.simd(0x0b, 0, ...uleb(offset)); }
  f32x4splat() { return this.simd(0x13); }
  f32x4extractLane(lane: number) { return this.simd(0x1f, lane); }
  f32x4replaceLane(lane: number) { return this.simd(0x20, lane); }
  i32x4splat() { return this.simd(0x11); }
  f32x4gt() { return this.simd(0x44); }
  f32x4eq() { return this.simd(0x41); }
  f32x4sub() { return this.simd(0xe5); }
  f32x4max() { return this.simd(0xe9); }
  v128andnot() { return this.simd(0x4f); }
  v128and() { return this.simd(0x4e); }
  v128or() { return this.simd(0x50); }
  f32x4add() { return this.simd(0xe4); }
  f32x4mul() { return this.simd(0xe6); }
  f32x4div() { return this.simd(0xe7); }
  f32x4sqrt() { return this.simd(0xe3); }
  f32div() { return this.op(0x95); }
  f32sqrt() { return this.op(0x91); }
  /** a·b + c with one rounding where the CPU has FMA (relaxed SIMD). */
  f32x4relaxedMadd() { return this.simd(0x105); }
  drop() { return this.op(0x1a); }
  /** b > a ? b : a — one maxps on x86 (f32x4.max's NaN/−0 rules cost several instructions). */
  f32x4pmax() { return this.simd(0xeb); }
  /** i8x16.shuffle of the two vectors on the stack by 16 byte indices (0–31). */
  i8x16shuffle(lanes: number[]) { return this.simd(0x0d, ...lanes); }
  f64x2promoteLowF32x4() { return this.simd(0x5f); }
  f64x2add() { return this.simd(0xf0); }

  block(label: string, body: () => void) {
    this.op(0x02, 0x40);
    this.labels.push(label);
    body();
    this.labels.pop();
    return this.op(0x0b);
  }
  loop(label: string, body: () => void) {
    this.op(0x03, 0x40);
    this.labels.push(label);
    body();
    this.labels.pop();
    return this.op(0x0b);
  }
  /** if (pops an i32) … end. */
  if(body: () => void) {
    this.op(0x04, 0x40);
    this.labels.push('');
    body();
    this.labels.pop();
    return this.op(0x0b);
  }
  br(label: string) { return this.op(0x0c, ...uleb(this.depth(label))); }
  brIf(label: string) { return this.op(0x0d, ...uleb(this.depth(label))); }

  /** for (i = from; i < to; i += step) body — `to` evaluated once into a local by the caller. */
  forRange(i: number, from: () => void, to: number, step: number, body: () => void) {
    from();
    this.set(i);
    const id = `for${i}_${this.code.length}`;
    this.block(`${id}b`, () => {
      this.get(i).get(to).geS().brIf(`${id}b`);
      this.loop(`${id}l`, () => {
        body();
        this.get(i).i32(step).add().tee(i).get(to).ltS().brIf(`${id}l`);
      });
    });
    return this;
  }

  encode(): number[] {
    // Locals grouped in runs of one type.
    const groups: number[][] = [];
    for (const t of this.localTypes) {
      const last = groups[groups.length - 1];
      if (last && last[1] === t) last[0]++;
      else groups.push([1, t]);
    }
    const body = [...vec(groups.map(([n, t]) => [...uleb(n), t])), ...this.code, 0x0b];
    return [...uleb(body.length), ...body];
  }
}

export interface MemoryImport {
  shared: boolean;
}

/** A module importing env.memory and exporting `fns` (all i32 parameters, no results). */
export function moduleBytes(mem: MemoryImport, fns: Array<{ name: string; fn: Fn }>): Uint8Array<ArrayBuffer> {
  const types = fns.map(({ fn }) => [0x60, ...vec(fn.params.map((p) => [p])), 0x00]);
  const limits = mem.shared ? [0x03, ...uleb(0), ...uleb(65536)] : [0x00, ...uleb(0)];
  const imports = vec([[...uleb(3), ...bytesOf('env'), ...uleb(6), ...bytesOf('memory'), 0x02, ...limits]]);
  const funcs = vec(fns.map((_, i) => uleb(i)));
  const exports = vec(fns.map(({ name }, i) => [...uleb(bytesOf(name).length), ...bytesOf(name), 0x00, ...uleb(i)]));
  const code = vec(fns.map(({ fn }) => fn.encode()));
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec(types)),
    ...section(2, imports),
    ...section(3, funcs),
    ...section(7, exports),
    ...section(10, code),
  ]);
}

let relaxedAllowed = true;

/**
 * For measurements (bench.html?relaxed=0): kernels compiled after this call use plain SIMD's separate
 * multiply and add even where the engine validates relaxed SIMD's fused multiply-add.
 */
export function setRelaxedSimd(on: boolean): void {
  relaxedAllowed = on;
}

/** The variants to try in order: relaxed SIMD first where allowed, then plain SIMD. */
export const relaxedVariants = (): boolean[] => (relaxedAllowed ? [true, false] : [false]);
