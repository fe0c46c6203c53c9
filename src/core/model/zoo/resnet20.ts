import type { GraphNode, GraphSpec, GroupNaming } from '../graph';

/**
 * ResNet-20 for CIFAR-10 (He et al. 2016, §4.2): a 3×3 conv 3→16 + BatchNorm + ReLU, three stages of
 * three basic blocks (16, 32, 64 channels; the first block of stages 2 and 3 has stride 2), global
 * average pooling, fc 64→10. A block is conv3×3 → BN → ReLU → conv3×3 → BN, plus the shortcut, then
 * ReLU; at the two stage transitions the shortcut is a 1×1 conv of stride 2 + BN (option B), else the
 * identity. No conv biases. 272,474 parameters, 40,813,184 MACs per image. PyTorch's module names
 * (conv1, bn1, layers.N.conv1 … layers.N.shortcut.0/1, fc), so the state_dict reads naturally.
 */
const WIDTHS = [16, 32, 64];
const BLOCKS_PER_STAGE = 3;

function build(): { nodes: GraphNode[]; groups: GroupNaming[] } {
  const nodes: GraphNode[] = [
    { op: 'conv', name: 'conv1', input: 'input', outChannels: 16, kernel: 3, stride: 1, padding: 1, bias: false },
    { op: 'batchNorm', name: 'bn1', input: 'conv1' },
    { op: 'relu', name: 'relu', input: 'bn1' },
  ];
  const groups: GroupNaming[] = [];
  const inner: GroupNaming[] = [];
  let x = 'relu';
  let n = 0;
  WIDTHS.forEach((width, stage) => {
    const s = stage + 1;
    groups.push({
      leader: stage === 0 ? 'conv1' : `layers.${n}.shortcut.0`,
      id: `stream${s}`,
      label: `residual stream of stage ${s}`,
      owner: `stage ${s}'s`,
      unitName: 'stream channels',
    });
    for (let b = 0; b < BLOCKS_PER_STAGE; b++, n++) {
      const p = `layers.${n}`;
      const transition = stage > 0 && b === 0;
      const stride = transition ? 2 : 1;
      nodes.push(
        { op: 'conv', name: `${p}.conv1`, input: x, outChannels: width, kernel: 3, stride, padding: 1, bias: false },
        { op: 'batchNorm', name: `${p}.bn1`, input: `${p}.conv1` },
        { op: 'relu', name: `${p}.relu1`, input: `${p}.bn1` },
        { op: 'conv', name: `${p}.conv2`, input: `${p}.relu1`, outChannels: width, kernel: 3, stride: 1, padding: 1, bias: false },
        { op: 'batchNorm', name: `${p}.bn2`, input: `${p}.conv2` },
      );
      let shortcut = x;
      if (transition) {
        nodes.push(
          { op: 'conv', name: `${p}.shortcut.0`, input: x, outChannels: width, kernel: 1, stride: 2, padding: 0, bias: false },
          { op: 'batchNorm', name: `${p}.shortcut.1`, input: `${p}.shortcut.0` },
        );
        shortcut = `${p}.shortcut.1`;
      }
      nodes.push({ op: 'add', name: `${p}.add`, inputs: [`${p}.bn2`, shortcut] }, { op: 'relu', name: `${p}.relu2`, input: `${p}.add` });
      x = `${p}.relu2`;
      inner.push({
        leader: `${p}.conv1`,
        id: `inner${s}.${b + 1}`,
        label: `inner channels of stage ${s}, block ${b + 1}`,
        owner: `stage ${s} block ${b + 1}'s`,
        unitName: 'inner channels',
      });
    }
  });
  nodes.push(
    { op: 'globalAvgPool', name: 'avgpool', input: x },
    { op: 'flatten', name: 'flatten', input: 'avgpool' },
    { op: 'linear', name: 'fc', input: 'flatten', outFeatures: 10 },
  );
  return { nodes, groups: [...groups, ...inner] };
}

const { nodes, groups } = build();

export const resnet20: GraphSpec = {
  id: 'resnet20',
  label: 'ResNet-20',
  summary: 'conv 3→16 · 3 stages × 3 residual blocks (16/32/64 channels) · global average pool · fc 64→10',
  input: { size: 32, channels: 3 },
  nodes,
  groups,
};
