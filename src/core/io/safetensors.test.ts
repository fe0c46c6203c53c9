import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runPython, torchOrSkip } from './pythonForTests';
import { type SafeTensor, SafetensorsError, decode, encode } from './safetensors';

/** Builds a file by hand: header JSON (unpadded unless the text is), then the data bytes. */
function handBuilt(header: string | object, data: number[] | Uint8Array = [], headerLength?: bigint): Uint8Array {
  const json = new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, headerLength ?? BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

const f32 = (shape: number[], values: number[]): SafeTensor => ({ dtype: 'F32', shape, data: Float32Array.from(values) });

function expectError(fn: () => unknown, pattern: RegExp): void {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(SafetensorsError);
  expect((caught as Error).message).toMatch(pattern);
}

describe('safetensors encode', () => {
  it('writes the documented layout: u64 LE length, space-padded JSON, raw LE data', () => {
    const bytes = encode({ a: f32([2], [1, -2]) });
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect(n % 8).toBe(0);
    const text = new TextDecoder().decode(bytes.subarray(8, 8 + n));
    expect(text.trimEnd()).toBe('{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}');
    expect(text.slice(text.trimEnd().length)).toMatch(/^ *$/);
    expect([...bytes.subarray(8 + n)]).toEqual([0, 0, 0x80, 0x3f, 0, 0, 0, 0xc0]); // 1.0f, -2.0f little-endian
  });

  it('keeps header order as given but puts 8-byte data first, so every tensor is aligned', () => {
    const t: Record<string, SafeTensor> = {
      'conv1.weight': f32([3], [1, 2, 3]),
      'bn1.num_batches_tracked': { dtype: 'I64', shape: [], data: BigInt64Array.of(7n) },
      mask: { dtype: 'U8', shape: [2], data: Uint8Array.of(1, 0) },
    };
    const bytes = encode(t, { format: 'pt' });
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
    expect(Object.keys(header)).toEqual(['__metadata__', 'conv1.weight', 'bn1.num_batches_tracked', 'mask']);
    expect(header['bn1.num_batches_tracked'].data_offsets).toEqual([0, 8]);
    expect(header['conv1.weight'].data_offsets).toEqual([8, 20]);
    expect(header.mask.data_offsets).toEqual([20, 22]);
    expect(Object.keys(decode(bytes).tensors)).toEqual(['conv1.weight', 'bn1.num_batches_tracked', 'mask']);
  });

  it('rejects data that does not match its shape or dtype, and non-string metadata', () => {
    expectError(() => encode({ a: f32([3], [1, 2]) }), /shape \[3\] needs 3 values, got 2/);
    expectError(() => encode({ a: { dtype: 'I64', shape: [1], data: new Float32Array(1) } as unknown as SafeTensor }), /I64 data must be a BigInt64Array/);
    expectError(() => encode({ a: { dtype: 'F16', shape: [1], data: new Uint16Array(1) } as unknown as SafeTensor }), /unsupported dtype F16/);
    expectError(() => encode({}, { n: 3 as unknown as string }), /metadata "n" must be a string/);
    expectError(() => encode({ __metadata__: f32([1], [1]) }), /reserved/);
  });
});

describe('safetensors decode', () => {
  it('round-trips F32, I64, U8, scalars, empty tensors and metadata bit for bit', () => {
    const weird = Float32Array.of(0, -0, NaN, Infinity, -Infinity, 1e-45, 3.4028234663852886e38, Math.PI);
    const t: Record<string, SafeTensor> = {
      w: { dtype: 'F32', shape: [2, 4], data: weird },
      s: { dtype: 'I64', shape: [], data: BigInt64Array.of(-(2n ** 62n)) },
      e: { dtype: 'F32', shape: [0, 3], data: new Float32Array(0) },
      m: { dtype: 'U8', shape: [3], data: Uint8Array.of(0, 1, 255) },
    };
    const meta = { model: 'convnet3', note: 'ünïcødé ✓' };
    const back = decode(encode(t, meta));
    expect(back.metadata).toEqual(meta);
    expect(Object.keys(back.tensors)).toEqual(['w', 's', 'e', 'm']);
    for (const [k, v] of Object.entries(t)) {
      const b = back.tensors[k];
      expect(b.dtype).toBe(v.dtype);
      expect(b.shape).toEqual(v.shape);
      expect(new Uint8Array(b.data.buffer, b.data.byteOffset, b.data.byteLength)).toEqual(new Uint8Array(v.data.buffer, v.data.byteOffset, v.data.byteLength));
    }
  });

  it('reads a hand-built file: unaligned data, no padding, tensors stored out of header order', () => {
    // b (1 byte) first in the data, then a (F32 at offset 1: unaligned, still read correctly).
    const data = [7, 0, 0, 0x80, 0x3f, 0, 0, 0, 0x40];
    const file = handBuilt({ a: { dtype: 'F32', shape: [2], data_offsets: [1, 9] }, b: { dtype: 'U8', shape: [1, 1], data_offsets: [0, 1] } }, data);
    const { tensors, metadata } = decode(file);
    expect(metadata).toEqual({});
    expect([...tensors.a.data]).toEqual([1, 2]);
    expect(tensors.b.shape).toEqual([1, 1]);
    expect([...tensors.b.data]).toEqual([7]);
    // A file inside a larger buffer (a subarray with an offset) reads the same.
    const big = new Uint8Array(file.length + 3);
    big.set(file, 3);
    expect([...decode(big.subarray(3)).tensors.a.data]).toEqual([1, 2]);
  });

  it('returns fresh arrays that do not alias the file', () => {
    const bytes = encode({ a: f32([1], [5]) });
    const t = decode(bytes).tensors.a.data as Float32Array;
    bytes.fill(0);
    expect(t[0]).toBe(5);
  });

  it('explains every kind of broken file', () => {
    const ok = { a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } };
    const eight = new Array(8).fill(0);
    expectError(() => decode(new Uint8Array(5)), /too short \(5 bytes\)/);
    expectError(() => decode(handBuilt(ok, eight, 1000n)), /truncated: its header needs 1000 bytes/);
    expectError(() => decode(handBuilt(ok, eight, 2n ** 40n)), /above the 100,000,000-byte limit/);
    expectError(() => decode(handBuilt('{"a": [1, 2', eight)), /not valid JSON/);
    expectError(() => decode(handBuilt('[1, 2, 3]', [])), /not valid JSON.*does not start with/);
    expectError(() => decode(handBuilt({ a: { dtype: 'F16', shape: [4], data_offsets: [0, 8] } }, eight)), /"a" has dtype F16, which this app does not read/);
    expectError(() => decode(handBuilt({ a: { dtype: 'BF16', shape: [4], data_offsets: [0, 8] } }, eight)), /BF16/);
    expectError(() => decode(handBuilt({ a: { shape: [2], data_offsets: [0, 8] } }, eight)), /"a" has no dtype/);
    expectError(() => decode(handBuilt({ a: { dtype: 'F32', shape: [2.5], data_offsets: [0, 8] } }, eight)), /invalid shape/);
    expectError(() => decode(handBuilt({ a: { dtype: 'F32', shape: [-1], data_offsets: [0, 8] } }, eight)), /invalid shape/);
    expectError(() => decode(handBuilt({ a: { dtype: 'F32', shape: [2], data_offsets: [0] } }, eight)), /invalid data_offsets/);
    expectError(() => decode(handBuilt({ a: { dtype: 'F32', shape: [2], data_offsets: [8, 0] } }, eight)), /end before they begin/);
    expectError(() => decode(handBuilt({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 16] } }, eight)), /beyond the 8 data bytes.*truncated/);
    expectError(() => decode(handBuilt({ a: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, eight)), /shape \[3\]\) needs 12 bytes, but its data_offsets \[0, 8\] hold 8/);
    expectError(
      () => decode(handBuilt({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, eight)),
      /overlaps tensor "a"/,
    );
    expectError(() => decode(handBuilt({ a: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, eight)), /4 unused bytes before tensor "a"/);
    expectError(() => decode(handBuilt({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, eight)), /4 bytes after the last tensor/);
    expectError(() => decode(handBuilt({ __metadata__: { n: 1 } }, [])), /metadata "n" must be a string/);
    expectError(() => decode(handBuilt({ a: 3 }, [])), /"a": its header entry must be an object/);
    expectError(() => decode(handBuilt('{"__proto__": {"dtype": "F32", "shape": [0], "data_offsets": [0, 0]}}', [])), /__proto__/);
    const full = encode({ a: f32([2], [1, 2]) });
    expectError(() => decode(full.subarray(0, full.length - 1)), /beyond the 7 data bytes in the file: the file is truncated/);
    expectError(() => decode(full, { maxBytes: 10 }), /more than the 10 bytes allowed/);
  });
});

// Cross-check with PyTorch's side: a ~10-line reader (numpy + torch) reads our bytes, and a
// ~10-line writer produces bytes we read. (The `safetensors` pip package is not installed here.)
describe('safetensors against Python', () => {
  const found = torchOrSkip('the Python safetensors checks');
  const dir = mkdtempSync(join(tmpdir(), 'safetensors-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  if (found === null) return;
  const torch: string = found; // narrowed for the closures below

  it('a minimal numpy/torch reader reads what encode writes', () => {
    const path = join(dir, 'a.safetensors');
    writeFileSync(
      path,
      encode(
        {
          'conv.weight': f32([2, 1, 1, 2], [1.5, -2, 0.25, 3]),
          'bn.num_batches_tracked': { dtype: 'I64', shape: [], data: BigInt64Array.of(12345678901n) },
          mask: { dtype: 'U8', shape: [3], data: Uint8Array.of(1, 0, 1) },
        },
        { format: 'pt' },
      ),
    );
    const reader = `
import json, sys, numpy as np, torch
data = open(sys.argv[1], "rb").read()
n = int.from_bytes(data[:8], "little")
header = json.loads(data[8:8 + n])
meta = header.pop("__metadata__", {})
types = {"F32": np.float32, "I64": np.int64, "U8": np.uint8}
out = {}
for name, t in header.items():
    b, e = t["data_offsets"]
    a = np.frombuffer(data[8 + n + b:8 + n + e], dtype=types[t["dtype"]]).reshape(t["shape"])
    out[name] = {"shape": list(torch.from_numpy(a.copy()).shape), "values": a.flatten().tolist()}
print(json.dumps({"meta": meta, "tensors": out}))
`;
    const got = JSON.parse(runPython(torch, ['-c', reader, path]));
    expect(got.meta).toEqual({ format: 'pt' });
    expect(got.tensors['conv.weight']).toEqual({ shape: [2, 1, 1, 2], values: [1.5, -2, 0.25, 3] });
    expect(got.tensors['bn.num_batches_tracked']).toEqual({ shape: [], values: [12345678901] });
    expect(got.tensors.mask).toEqual({ shape: [3], values: [1, 0, 1] });
  });

  it('decode reads what a minimal Python writer produces from torch tensors', () => {
    const path = join(dir, 'b.safetensors');
    const writer = `
import json, sys, torch
ts = {"w": torch.arange(6, dtype=torch.float32).reshape(2, 3) / 4, "n": torch.tensor(3, dtype=torch.int64)}
header, blobs, at = {"__metadata__": {"by": "python"}}, [], 0
for name, t in ts.items():
    raw = t.contiguous().numpy().tobytes()
    header[name] = {"dtype": {torch.float32: "F32", torch.int64: "I64"}[t.dtype], "shape": list(t.shape), "data_offsets": [at, at + len(raw)]}
    blobs.append(raw); at += len(raw)
h = json.dumps(header).encode()
open(sys.argv[1], "wb").write(len(h).to_bytes(8, "little") + h + b"".join(blobs))
`;
    runPython(torch, ['-c', writer, path]);
    const { tensors, metadata } = decode(new Uint8Array(readFileSync(path)));
    expect(metadata).toEqual({ by: 'python' });
    expect(tensors.w.shape).toEqual([2, 3]);
    expect([...tensors.w.data]).toEqual([0, 0.25, 0.5, 0.75, 1, 1.25]);
    expect(tensors.n).toEqual({ dtype: 'I64', shape: [], data: BigInt64Array.of(3n) });
  });
});
