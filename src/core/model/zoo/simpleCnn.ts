import type { NetSpec } from '../spec';

/** The article's SimpleCNN: conv 3→64, 3×3, pad 1, ReLU, flatten, linear 64·32·32 → 10 (657,162 parameters). */
export const simpleCnn: NetSpec = {
  id: 'simplecnn',
  label: 'SimpleCNN',
  summary: 'conv1 3→64 · ReLU · fc1 65,536→10 (the article’s model)',
  input: { size: 32, channels: 3 },
  layers: [
    { kind: 'conv', name: 'conv1', from: 'input', outChannels: 64, kernel: 3, bias: true, batchNorm: null, pool: false },
    { kind: 'linear', name: 'fc1', from: 'conv1', outFeatures: 10 },
  ],
};
