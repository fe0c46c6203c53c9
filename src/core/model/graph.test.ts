import { describe, expect, it } from 'vitest';
import { type GraphNode, type GraphSpec, GraphError, structure } from './graph';
import { fullChannels, parameterCount, tensors } from './spec';
import { convNet3, resnet20, simpleCnn } from './zoo';

/** A tiny residual graph to break in the validation tests. */
function tiny(nodes: GraphNode[]): GraphSpec {
  return { id: 'resnet20', label: 't', summary: 't', input: { size: 8, channels: 3 }, nodes };
}
const conv = (name: string, input: string, out: number, stride: 1 | 2 = 1, kernel: 1 | 3 = 3): GraphNode => ({
  op: 'conv', name, input, outChannels: out, kernel, stride, padding: kernel === 3 ? 1 : 0, bias: false,
});
const head: GraphNode[] = [
  { op: 'globalAvgPool', name: 'gap', input: 'sum' },
  { op: 'flatten', name: 'flat', input: 'gap' },
  { op: 'linear', name: 'fc', input: 'flat', outFeatures: 10 },
];

describe('graph validation', () => {
  it('accepts a small residual graph and joins the add’s inputs into one group', () => {
    const st = structure(tiny([conv('a', 'input', 4), conv('b', 'a', 4), { op: 'add', name: 'sum', inputs: ['a', 'b'] }, ...head]));
    expect(st.groups.map((g) => [g.id, g.kind, g.producers, g.consumers, g.linears])).toEqual([
      ['a', 'stream', ['a', 'b'], ['b'], [{ name: 'fc', pixels: 1 }]],
    ]);
  });

  it('names an unknown input, a cycle, a channel and a shape mismatch at an add', () => {
    const bad = (nodes: GraphNode[]) => () => structure(tiny(nodes));
    expect(bad([conv('a', 'nowhere', 4), { op: 'add', name: 'sum', inputs: ['a', 'a'] }, ...head])).toThrow(
      new GraphError('resnet20: a takes input from nowhere, which is no node of the graph (nor "input")'),
    );
    expect(bad([conv('a', 'c', 4), conv('b', 'a', 4), conv('c', 'b', 4), { op: 'add', name: 'sum', inputs: ['a', 'c'] }, ...head])).toThrow(
      /cycle: (a → b → c → a|b → c → a → b|c → a → b → c)/,
    );
    expect(bad([conv('a', 'input', 4), conv('b', 'a', 8), { op: 'add', name: 'sum', inputs: ['a', 'b'] }, ...head])).toThrow(
      'channel mismatch at sum: a gives 4 channels, b gives 8',
    );
    expect(bad([conv('a', 'input', 4), conv('b', 'a', 4, 2), { op: 'add', name: 'sum', inputs: ['a', 'b'] }, ...head])).toThrow(
      'shape mismatch at sum: a gives 8×8 maps, b gives 4×4',
    );
    expect(bad([conv('a', 'input', 4), conv('b', 'a', 4), { op: 'add', name: 'sum', inputs: ['a', 'b'] }, { op: 'linear', name: 'fc', input: 'sum', outFeatures: 10 }])).toThrow(
      'linear fc needs a vector; put a flatten after sum',
    );
    expect(bad([conv('a', 'input', 4), conv('b', 'a', 4), conv('dead', 'a', 4), { op: 'add', name: 'sum', inputs: ['a', 'b'] }, ...head])).toThrow(
      'the output of dead is never used',
    );
  });
});

describe('the zoo as graphs', () => {
  it('ResNet-20 has 272,474 parameters (He et al.’s 0.27 M) and the PyTorch names', () => {
    expect(parameterCount(resnet20)).toBe(272_474);
    const names = tensors(resnet20).map((t) => t.name);
    expect(names.slice(0, 6)).toEqual(['conv1.weight', 'bn1.weight', 'bn1.bias', 'bn1.running_mean', 'bn1.running_var', 'layers.0.conv1.weight']);
    expect(names).toContain('layers.3.shortcut.0.weight');
    expect(names).toContain('layers.6.shortcut.1.running_var');
    expect(names).not.toContain('layers.4.shortcut.0.weight');
    expect(names.slice(-2)).toEqual(['fc.weight', 'fc.bias']);
  });

  it('ResNet-20: 3 stream groups with every member, 9 inner groups', () => {
    const st = structure(resnet20);
    expect(st.groups.map((g) => `${g.id}:${g.kind}:${g.units}`)).toEqual([
      'stream1:stream:16', 'stream2:stream:32', 'stream3:stream:64',
      ...[1, 2, 3].flatMap((s) => [1, 2, 3].map((b) => `inner${s}.${b}:inner:${[16, 32, 64][s - 1]}`)),
    ]);
    const s2 = st.groups[1];
    expect(s2.label).toBe('residual stream of stage 2');
    expect(s2.producers).toEqual(['layers.3.conv2', 'layers.3.shortcut.0', 'layers.4.conv2', 'layers.5.conv2']);
    expect(s2.batchNorms).toEqual(['layers.3.bn2', 'layers.3.shortcut.1', 'layers.4.bn2', 'layers.5.bn2']);
    expect(s2.consumers).toEqual(['layers.4.conv1', 'layers.5.conv1', 'layers.6.conv1', 'layers.6.shortcut.0']);
    expect(s2.linears).toEqual([]);
    const s1 = st.groups[0];
    expect(s1.producers).toEqual(['conv1', 'layers.0.conv2', 'layers.1.conv2', 'layers.2.conv2']);
    expect(s1.consumers).toEqual(['layers.0.conv1', 'layers.1.conv1', 'layers.2.conv1', 'layers.3.conv1', 'layers.3.shortcut.0']);
    expect(st.groups[2].linears).toEqual([{ name: 'fc', pixels: 1 }]);
    const inner = st.groups.find((g) => g.id === 'inner2.1')!;
    expect([inner.producers, inner.batchNorms, inner.consumers, inner.label]).toEqual([['layers.3.conv1'], ['layers.3.bn1'], ['layers.3.conv2'], 'inner channels of stage 2, block 1']);
  });

  it('SimpleCNN and ConvNet-3 compile to one group per conv layer, as before', () => {
    expect(fullChannels(simpleCnn)).toEqual([64]);
    expect(fullChannels(convNet3)).toEqual([16, 32, 64]);
    const st = structure(convNet3);
    expect(st.groups.map((g) => [g.id, g.kind, g.producers, g.batchNorms, g.consumers, g.linears])).toEqual([
      ['conv1', 'layer', ['conv1'], ['bn1'], ['conv2'], []],
      ['conv2', 'layer', ['conv2'], ['bn2'], ['conv3'], []],
      ['conv3', 'layer', ['conv3'], ['bn3'], [], [{ name: 'fc1', pixels: 16 }]],
    ]);
    expect(structure(simpleCnn).groups[0].linears).toEqual([{ name: 'fc1', pixels: 1024 }]);
  });
});
