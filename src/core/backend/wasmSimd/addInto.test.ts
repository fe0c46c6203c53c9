/**
 * The per-slice accumulators' sum: addSlicesInto (the SIMD kernel, addInto.ts) gives sumSlices's
 * result bit for bit — the same order of additions — with a tail of floats that is not a vector.
 */
import { describe, expect, test } from 'vitest';
import { addIntoBytes, instantiateAddInto } from './addInto';
import { addSlicesInto, sumSlices } from './index';

describe('addSlicesInto', () => {
  test('the module is valid WebAssembly and instantiates on a shared memory', () => {
    expect(WebAssembly.validate(addIntoBytes(true))).toBe(true);
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 4, shared: true });
    expect(instantiateAddInto(memory, true)).not.toBeNull();
  });

  for (const floats of [4096, 1003, 3]) {
    test(`${floats} floats in four slices: the SIMD sum is sumSlices's, bit for bit; the other slices are unchanged`, () => {
      const memory = new WebAssembly.Memory({ initial: 2, maximum: 4, shared: true });
      const heap = new Float32Array(memory.buffer);
      const stride = (floats + 15) & ~15;
      const ptrs = [0, 1, 2, 3].map((i) => 64 + i * stride * 4);
      // values of very different magnitudes: a different order of additions would show in the bits
      ptrs.forEach((p, i) => {
        for (let j = 0; j < floats; j++) heap[p / 4 + j] = Math.sin(7 * j + i) * 10 ** ((j + 3 * i) % 9 - 4);
      });
      const expected = sumSlices(memory, ptrs, floats);
      const others = ptrs.slice(1).map((p) => heap.slice(p / 4, p / 4 + floats));
      addSlicesInto(memory, ptrs, floats);
      expect(Buffer.from(heap.slice(ptrs[0] / 4, ptrs[0] / 4 + floats).buffer).equals(Buffer.from(expected.buffer))).toBe(true);
      ptrs.slice(1).forEach((p, i) => expect(heap.slice(p / 4, p / 4 + floats)).toEqual(others[i]));
    });
  }
});
