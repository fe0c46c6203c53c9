import { describe, expect, it } from 'vitest';
import { convNet3, resnet20, simpleCnn } from '../model/zoo';
import { breakGroup } from './breakGroup';

// The expected errors are what torch 1.13 (/usr/bin/python3) printed for the same shapes, e.g.
// nn.Conv2d(32, 64, 3, padding=1)(torch.zeros(1, 31, 16, 16)), torch.zeros(1,31,16,16) + torch.zeros(1,32,16,16),
// nn.Linear(65536, 10)(torch.zeros(1, 64512)), nn.BatchNorm2d(16)(torch.zeros(1, 15, 32, 32)).
describe('breakGroup: the shape error PyTorch raises when one member of a group loses a channel alone', () => {
  it('ConvNet-3: conv2 alone loses a filter → conv3 gets 31 of its 32 input channels', () => {
    const b = breakGroup(convNet3, 'conv2');
    expect(b.at).toBe('conv3');
    expect(b.error).toBe('RuntimeError: Given groups=1, weight of size [64, 32, 3, 3], expected input[1, 31, 8, 8] to have 32 channels, but got 31 channels instead');
    expect(b.explanation).toContain('32 input channels');
  });

  it('SimpleCNN: conv1 alone → fc1 gets 63·1,024 of its 65,536 inputs', () => {
    const b = breakGroup(simpleCnn, 'conv1');
    expect(b.at).toBe('fc1');
    expect(b.error).toBe('RuntimeError: mat1 and mat2 shapes cannot be multiplied (1x64512 and 65536x10)');
  });

  it('ConvNet-3: the last conv alone → fc1 (64·16 rows → 63·16)', () => {
    expect(breakGroup(convNet3, 'conv3').error).toBe('RuntimeError: mat1 and mat2 shapes cannot be multiplied (1x1008 and 1024x10)');
  });

  it('ResNet-20: a block’s second conv alone → its add sees 15 and 16 channels', () => {
    const b = breakGroup(resnet20, 'layers.1.conv2');
    expect(b.at).toBe('layers.1.add');
    expect(b.error).toBe('RuntimeError: The size of tensor a (15) must match the size of tensor b (16) at non-singleton dimension 1');
  });

  it('ResNet-20: a transition shortcut alone → the add’s b is the short one', () => {
    const b = breakGroup(resnet20, 'layers.3.shortcut.0');
    expect(b.at).toBe('layers.3.add');
    expect(b.error).toBe('RuntimeError: The size of tensor a (32) must match the size of tensor b (31) at non-singleton dimension 1');
  });

  it('ResNet-20: the stem alone → the first block’s conv1 (before any add)', () => {
    const b = breakGroup(resnet20, 'conv1');
    expect(b.at).toBe('layers.0.conv1');
    expect(b.error).toBe('RuntimeError: Given groups=1, weight of size [16, 16, 3, 3], expected input[1, 15, 32, 32] to have 16 channels, but got 15 channels instead');
  });

  it('ResNet-20: an inner conv alone → the block’s conv2 (stride-2 conv1 feeds a 16×16 map)', () => {
    const b = breakGroup(resnet20, 'layers.6.conv1', 3);
    expect(b.at).toBe('layers.6.conv2');
    expect(b.error).toBe('RuntimeError: Given groups=1, weight of size [64, 64, 3, 3], expected input[1, 61, 8, 8] to have 64 channels, but got 61 channels instead');
  });

  it('rejects what is not a conv, and impossible counts', () => {
    expect(() => breakGroup(convNet3, 'bn2')).toThrow(/not a conv/);
    expect(() => breakGroup(convNet3, 'conv2', 33)).toThrow(RangeError);
  });
});
