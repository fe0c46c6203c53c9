import { describe, expect, it } from 'vitest';
import { exclusiveTimes } from './kernelProfile';

const r = (name: string, ms: number, out = '[[64,32,32,16]]') => ({ name, out, ms });

describe('exclusiveTimes', () => {
  it('counts a conv wrapper once when its saves are recorded between it and its inner kernel', () => {
    // The order tf.profile records ResNet-20's first block in: inner conv, the saves' clones, the wrapper.
    const records = [r('PlaygroundSimdConv3x3', 4.9), r('Identity', 0.1), r('Identity', 0.02, '[[3,3,16,16]]'), r('PlaygroundConvSame', 5.1)];
    const ms = exclusiveTimes(records);
    expect(ms[0]).toBe(4.9);
    expect(ms[3]).toBeCloseTo(0.08, 10);
    expect(ms.reduce((a, b) => a + b, 0)).toBeCloseTo(5.1, 10);
  });

  it('takes a wrapper whose inner kernel has another name (other backends) minus the record before it with its output', () => {
    const ms = exclusiveTimes([r('FusedConv2D', 3), r('PlaygroundConvSame', 3.2)]);
    expect(ms).toEqual([3, expect.closeTo(0.2, 10)]);
  });

  it('subtracts the BatchNorm and stride-2 scopes\' nested kernels', () => {
    const records = [
      r('PlaygroundBatchNormRelu', 1.5, '[[64,32,32,16],[16]]'),
      r('Identity', 0.4),
      r('PlaygroundBatchNormReluTaped', 2.0),
      r('Conv2D', 3.9, '[[64,16,16,32]]'),
      r('PlaygroundConv3x3Stride2', 4.0, '[[64,16,16,32]]'),
    ];
    const ms = exclusiveTimes(records);
    expect(ms[2]).toBeCloseTo(0.1, 10);
    expect(ms[4]).toBeCloseTo(0.1, 10);
  });

  it("subtracts a custom-gradient op's kernel (recorded as 'forward')", () => {
    const records = [r('PlaygroundSimdConv3x3Stride2', 1.6, '[[64,16,16,32]]'), r('Identity', 0.05), r('forward', 1.7, '[[64,16,16,32]]')];
    const ms = exclusiveTimes(records);
    expect(ms[0]).toBe(1.6);
    expect(ms[2]).toBeCloseTo(0.05, 10);
  });

  it('leaves kernels that wrap nothing as they are', () => {
    expect(exclusiveTimes([r('Add', 1), r('Identity', 0.5), r('Multiply', 2)])).toEqual([1, 0.5, 2]);
  });
});
