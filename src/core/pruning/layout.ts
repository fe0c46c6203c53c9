/**
 * PyTorch ↔ TensorFlow.js weight layouts, flat row-major arrays.
 * conv: torch [out, in, kh, kw] ↔ tfjs [kh, kw, in, out]; linear: torch [out, in] ↔ tfjs dense [in, out].
 * Masks convert the same way (pass a Uint8Array, get one back).
 */
type Flat = Float32Array | Uint8Array | Float64Array;

function like<T extends Flat>(a: T, n: number): T {
  return new (a.constructor as new (n: number) => T)(n);
}

function from<T extends Flat>(a: T | ArrayLike<number>, n: number): T {
  if (a instanceof Float32Array || a instanceof Uint8Array || a instanceof Float64Array) return like(a as T, n);
  return new Float32Array(n) as T;
}

/** torch conv [out, in, kh, kw] → tfjs [kh, kw, in, out]. */
export function convTorchToTf<T extends Flat>(w: T | ArrayLike<number>, [out, inC, kh, kw]: readonly number[]): T {
  const r = from<T>(w, out * inC * kh * kw);
  for (let o = 0; o < out; o++)
    for (let c = 0; c < inC; c++)
      for (let y = 0; y < kh; y++)
        for (let x = 0; x < kw; x++) r[((y * kw + x) * inC + c) * out + o] = w[((o * inC + c) * kh + y) * kw + x];
  return r;
}

/** tfjs [kh, kw, in, out] → torch conv [out, in, kh, kw]. */
export function convTfToTorch<T extends Flat>(w: T | ArrayLike<number>, [kh, kw, inC, out]: readonly number[]): T {
  const r = from<T>(w, out * inC * kh * kw);
  for (let o = 0; o < out; o++)
    for (let c = 0; c < inC; c++)
      for (let y = 0; y < kh; y++)
        for (let x = 0; x < kw; x++) r[((o * inC + c) * kh + y) * kw + x] = w[((y * kw + x) * inC + c) * out + o];
  return r;
}

/** Transpose of a row-major [rows, cols] matrix: torch linear [out, in] ↔ tfjs dense [in, out] (both directions). */
export function transpose2d<T extends Flat>(w: T | ArrayLike<number>, [rows, cols]: readonly number[]): T {
  const r = from<T>(w, rows * cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) r[j * rows + i] = w[i * cols + j];
  return r;
}

/** Maps a torch dim to the same axis in tfjs layout (rank 4 = conv, rank 2 = linear). */
export function torchDimToTf(rank: 2 | 4, dim: number): number {
  const d = dim < 0 ? rank + dim : dim;
  const map = rank === 4 ? [3, 2, 0, 1] : [1, 0];
  if (!(d in map)) throw new RangeError(`dim ${dim} out of range for rank ${rank}`);
  return map[d];
}

/** A torch shape in tfjs layout. */
export function torchShapeToTf(shape: readonly number[]): number[] {
  if (shape.length === 4) return [shape[2], shape[3], shape[1], shape[0]];
  if (shape.length === 2) return [shape[1], shape[0]];
  throw new RangeError(`only conv (rank 4) and linear (rank 2) weights convert, got rank ${shape.length}`);
}

/** Converts a torch-layout weight (or mask) of rank 2 or 4 into tfjs layout. */
export function torchToTf<T extends Flat>(w: T | ArrayLike<number>, shape: readonly number[]): T {
  return shape.length === 4 ? convTorchToTf<T>(w, shape) : transpose2d<T>(w, shape);
}

/** Converts a tfjs-layout weight (or mask) back to torch layout; `torchShape` is the torch shape. */
export function tfToTorch<T extends Flat>(w: T | ArrayLike<number>, torchShape: readonly number[]): T {
  return torchShape.length === 4 ? convTfToTorch<T>(w, torchShapeToTf(torchShape)) : transpose2d<T>(w, torchShapeToTf(torchShape));
}
