/**
 * The chain form of a network (NetSpec): sugar for the simple models, compiled to a graph by
 * graph.ts's chainToGraph. A leaf module (types only), so graph.ts and spec.ts can both use it.
 */

/** The models the page offers (URL, picker). */
export type ModelId = 'simplecnn' | 'convnet3' | 'resnet20';
/** Every model of the zoo (today the same as the page's). */
export type ZooModelId = ModelId;

/** conv (stride 1, 'same' padding) → [BatchNorm] → ReLU → [MaxPool 2×2]. */
export interface ConvLayer {
  kind: 'conv';
  name: string;
  /** The layer feeding this one, or 'input' for the image. */
  from: string;
  outChannels: number;
  kernel: number;
  bias: boolean;
  /** Name of the BatchNorm2d after the conv (PyTorch: eps 1e-5, momentum 0.1), or null. */
  batchNorm: string | null;
  pool: boolean;
}

/** flatten (NHWC in the engine, NCHW in PyTorch) → linear. The last layer: its outputs are the classes. */
export interface LinearLayer {
  kind: 'linear';
  name: string;
  from: string;
  outFeatures: number;
}

export type Layer = ConvLayer | LinearLayer;

export interface NetSpec {
  id: ModelId;
  /** Shown in the page. */
  label: string;
  summary: string;
  input: { size: number; channels: number };
  layers: Layer[];
}
