/**
 * The safetensors file format (Hugging Face), read and written without dependencies:
 *
 *   [8 bytes]  N, unsigned 64-bit little-endian: length of the header
 *   [N bytes]  UTF-8 JSON: { name: { dtype, shape, data_offsets: [begin, end] }, "__metadata__": { string: string } }
 *              padded with spaces so the data starts 8-byte aligned
 *   [rest]     raw little-endian tensor data; offsets are relative to the start of this part
 *
 * Chosen over tfjs's model.json + .bin because PyTorch users load it in one line
 * (`safetensors.torch.load_file`) and it cannot execute code, unlike a pickled `.pt`.
 * Decoding trusts nothing: every failure is a SafetensorsError with a message a person can act on.
 * Only what the playground stores is supported: F32 weights, I64 counters (BatchNorm's
 * num_batches_tracked) and U8 masks.
 */

export type Dtype = 'F32' | 'I64' | 'U8';

/** The typed array that holds each dtype's values. */
export interface DtypeArray {
  F32: Float32Array;
  I64: BigInt64Array;
  U8: Uint8Array;
}

export type TensorData = DtypeArray[Dtype];

/** One tensor: dtype, shape (row-major; [] is a scalar) and its values. */
export type SafeTensor = { [D in Dtype]: { dtype: D; shape: number[]; data: DtypeArray[D] } }[Dtype];

export interface SafetensorsFile {
  /** In the header's order. */
  tensors: Record<string, SafeTensor>;
  metadata: Record<string, string>;
}

export interface DecodeOptions {
  /** Refuse files larger than this many bytes (default: no limit beyond the header's own). */
  maxBytes?: number;
}

/** Anything wrong with a safetensors file or with tensors given to encode(). */
export class SafetensorsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SafetensorsError';
  }
}

const BYTES: Record<Dtype, number> = { F32: 4, I64: 8, U8: 1 };
const ARRAY: Record<Dtype, { new (buffer: ArrayBuffer): TensorData; name: string }> = {
  F32: Float32Array,
  I64: BigInt64Array,
  U8: Uint8Array,
};
/** The reference implementation refuses headers above 100 MB; so do we (a corrupt length reads as huge). */
export const MAX_HEADER_BYTES = 100_000_000;
const METADATA_KEY = '__metadata__';
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

const isDtype = (d: unknown): d is Dtype => typeof d === 'string' && Object.prototype.hasOwnProperty.call(BYTES, d);
const elements = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);
const fmtShape = (shape: readonly number[]) => `[${shape.join(', ')}]`;

/**
 * Serialises tensors (and optional string metadata) to safetensors bytes. The header lists tensors
 * in the order given; the data puts 8-byte dtypes first, as the reference writer does, so every
 * tensor's data stays aligned to its element size.
 */
export function encode(tensors: Record<string, SafeTensor>, metadata?: Record<string, string>): Uint8Array {
  const names = Object.keys(tensors);
  if (names.includes(METADATA_KEY)) throw new SafetensorsError(`"${METADATA_KEY}" is reserved for metadata and cannot name a tensor`);
  for (const name of names) checkTensor(name, tensors[name]);
  if (metadata)
    for (const [k, v] of Object.entries(metadata))
      if (typeof v !== 'string') throw new SafetensorsError(`metadata "${k}" must be a string, got ${typeof v}`);

  const dataOrder = [...names].sort((a, b) => BYTES[tensors[b].dtype] - BYTES[tensors[a].dtype]); // stable: ties keep the given order
  const offsets = new Map<string, [number, number]>();
  let at = 0;
  for (const name of dataOrder) {
    const n = tensors[name].data.byteLength;
    offsets.set(name, [at, at + n]);
    at += n;
  }
  const header: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length > 0) header[METADATA_KEY] = metadata;
  for (const name of names) {
    const t = tensors[name];
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: offsets.get(name) };
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.length / 8) * 8;
  if (padded !== json.length) {
    const p = new Uint8Array(padded).fill(0x20); // spaces: still valid JSON
    p.set(json);
    json = p;
  }
  const out = new Uint8Array(8 + json.length + at);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  const base = 8 + json.length;
  for (const name of dataOrder) out.set(littleEndianBytes(tensors[name]), base + offsets.get(name)![0]);
  return out;
}

/** Parses and validates safetensors bytes. Tensors get fresh, aligned arrays (never views of `bytes`). */
export function decode(bytes: Uint8Array, options: DecodeOptions = {}): SafetensorsFile {
  const { maxBytes } = options;
  if (maxBytes !== undefined && bytes.length > maxBytes)
    throw new SafetensorsError(`the file is ${mb(bytes.length)}, more than the ${mb(maxBytes)} allowed here`);
  if (bytes.length < 8)
    throw new SafetensorsError(`the file is too short (${bytes.length} bytes) to be safetensors: it must start with an 8-byte header length`);
  const n = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  if (n > BigInt(MAX_HEADER_BYTES))
    throw new SafetensorsError(`the header length field says ${n} bytes, above the ${MAX_HEADER_BYTES.toLocaleString('en-US')}-byte limit: this is not a safetensors file, or it is corrupt`);
  const headerLength = Number(n);
  if (headerLength < 2) throw new SafetensorsError(`the header length field says ${headerLength} bytes: too small for a JSON header`);
  if (8 + headerLength > bytes.length)
    throw new SafetensorsError(`the file is truncated: its header needs ${headerLength} bytes after the first 8, but only ${bytes.length - 8} follow`);

  let header: unknown;
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + headerLength));
    if (!text.startsWith('{')) throw new Error('it does not start with "{"');
    header = JSON.parse(text);
  } catch (e) {
    throw new SafetensorsError(`the header is not valid JSON (${e instanceof Error ? e.message : String(e)}): this is not a safetensors file, or it is corrupt`);
  }
  if (!isPlainObject(header)) throw new SafetensorsError('the header must be a JSON object of tensors');

  const dataStart = 8 + headerLength;
  const dataLength = bytes.length - dataStart;
  const metadata: Record<string, string> = {};
  const entries: { name: string; dtype: Dtype; shape: number[]; begin: number; end: number }[] = [];
  for (const [name, info] of Object.entries(header)) {
    if (name === METADATA_KEY) {
      if (info === null) continue;
      if (!isPlainObject(info)) throw new SafetensorsError(`"${METADATA_KEY}" must be an object of strings`);
      for (const [k, v] of Object.entries(info)) {
        if (typeof v !== 'string') throw new SafetensorsError(`metadata "${k}" must be a string, got ${JSON.stringify(v)}`);
        metadata[k] = v;
      }
      continue;
    }
    if (name === '__proto__') throw new SafetensorsError('a tensor cannot be named "__proto__"');
    if (!isPlainObject(info)) throw new SafetensorsError(`tensor "${name}": its header entry must be an object with dtype, shape and data_offsets`);
    const { dtype, shape, data_offsets: off } = info as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof dtype !== 'string') throw new SafetensorsError(`tensor "${name}" has no dtype`);
    if (!isDtype(dtype))
      throw new SafetensorsError(`tensor "${name}" has dtype ${dtype}, which this app does not read (it reads ${Object.keys(BYTES).join(', ')}); save it as float32 (F32)`);
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0))
      throw new SafetensorsError(`tensor "${name}" has an invalid shape ${JSON.stringify(shape)}: expected a list of non-negative integers`);
    if (!Array.isArray(off) || off.length !== 2 || !off.every((o) => Number.isSafeInteger(o) && o >= 0))
      throw new SafetensorsError(`tensor "${name}" has invalid data_offsets ${JSON.stringify(off)}: expected [begin, end]`);
    const [begin, end] = off as [number, number];
    if (end < begin) throw new SafetensorsError(`tensor "${name}" has data_offsets [${begin}, ${end}] that end before they begin`);
    if (end > dataLength)
      throw new SafetensorsError(`tensor "${name}" has data_offsets [${begin}, ${end}] beyond the ${dataLength} data bytes in the file: the file is truncated or corrupt`);
    const count = elements(shape as number[]);
    const expected = count * BYTES[dtype];
    if (!Number.isSafeInteger(expected) || expected !== end - begin)
      throw new SafetensorsError(`tensor "${name}" (${dtype}, shape ${fmtShape(shape as number[])}) needs ${expected} bytes, but its data_offsets [${begin}, ${end}] hold ${end - begin}`);
    entries.push({ name, dtype, shape: shape as number[], begin, end });
  }

  // The data part must be exactly the tensors, back to back: no overlap, no gap, nothing after.
  const byOffset = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let at = 0;
  for (const e of byOffset) {
    if (e.begin < at) {
      const other = byOffset.find((o) => o !== e && o.begin < e.end && e.begin < o.end && o.end > o.begin);
      throw new SafetensorsError(`tensor "${e.name}" overlaps ${other ? `tensor "${other.name}"` : 'another tensor'} in the data section`);
    }
    if (e.begin > at) throw new SafetensorsError(`the data section has ${e.begin - at} unused bytes before tensor "${e.name}"`);
    at = e.end;
  }
  if (at !== dataLength) throw new SafetensorsError(`the file has ${dataLength - at} bytes after the last tensor's data: it is corrupt or not safetensors`);

  const tensors: Record<string, SafeTensor> = {};
  for (const e of entries) {
    const data = readArray(e.dtype, bytes.subarray(dataStart + e.begin, dataStart + e.end));
    tensors[e.name] = { dtype: e.dtype, shape: [...e.shape], data } as SafeTensor;
  }
  return { tensors, metadata };
}

function checkTensor(name: string, t: SafeTensor): void {
  if (!t || !isDtype(t.dtype)) throw new SafetensorsError(`tensor "${name}": unsupported dtype ${String(t?.dtype)}`);
  if (!Array.isArray(t.shape) || !t.shape.every((d) => Number.isSafeInteger(d) && d >= 0))
    throw new SafetensorsError(`tensor "${name}": invalid shape ${JSON.stringify(t.shape)}`);
  const Ctor = ARRAY[t.dtype];
  if (!(t.data instanceof (Ctor as unknown as typeof Float32Array))) throw new SafetensorsError(`tensor "${name}": ${t.dtype} data must be a ${Ctor.name}`);
  if (t.data.length !== elements(t.shape))
    throw new SafetensorsError(`tensor "${name}": shape ${fmtShape(t.shape)} needs ${elements(t.shape)} values, got ${t.data.length}`);
}

/** The tensor's bytes in little-endian order (a view on little-endian hosts, i.e. every browser). */
function littleEndianBytes(t: SafeTensor): Uint8Array {
  const view = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  return LITTLE_ENDIAN || t.dtype === 'U8' ? view : swapped(view, BYTES[t.dtype]);
}

function readArray(dtype: Dtype, src: Uint8Array): TensorData {
  const copy = new Uint8Array(src.length); // fresh buffer: aligned, and independent of the file's bytes
  copy.set(LITTLE_ENDIAN || dtype === 'U8' ? src : swapped(src, BYTES[dtype]));
  return new ARRAY[dtype](copy.buffer);
}

function swapped(bytes: Uint8Array, size: number): Uint8Array {
  const out = new Uint8Array(bytes.length);
  for (let i = 0; i < bytes.length; i += size) for (let j = 0; j < size; j++) out[i + j] = bytes[i + size - 1 - j];
  return out;
}

function isPlainObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function mb(n: number): string {
  return n >= 1e6 ? `${(n / 1e6).toFixed(1)} MB` : `${n.toLocaleString('en-US')} bytes`;
}
