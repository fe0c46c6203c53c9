import type { NetSpec } from '../spec';

/**
 * Three conv blocks (conv without bias → BatchNorm → ReLU → MaxPool 2×2), then fc1 1,024 → 10:
 * 33,946 parameters, 2,811,904 MACs per image. Small enough to train in the browser, deep enough that
 * removing a filter changes the next layer (its input channel) and the matching BatchNorm channel.
 */
export const convNet3: NetSpec = {
  id: 'convnet3',
  label: 'ConvNet-3',
  summary: '3 × (conv · BatchNorm · ReLU · MaxPool) 16/32/64 filters · fc1 1,024→10',
  input: { size: 32, channels: 3 },
  layers: [
    { kind: 'conv', name: 'conv1', from: 'input', outChannels: 16, kernel: 3, bias: false, batchNorm: 'bn1', pool: true },
    { kind: 'conv', name: 'conv2', from: 'conv1', outChannels: 32, kernel: 3, bias: false, batchNorm: 'bn2', pool: true },
    { kind: 'conv', name: 'conv3', from: 'conv2', outChannels: 64, kernel: 3, bias: false, batchNorm: 'bn3', pool: true },
    { kind: 'linear', name: 'fc1', from: 'conv3', outFeatures: 10 },
  ],
};
