/**
 * Kernels the SimpleCNN training step needs that @tensorflow/tfjs-backend-wasm 4.22 lacks (and an
 * Identity that does not copy, below).
 *
 * Measured in headless Chromium (bench/ "wasm missing kernels"): with Adam or SGD momentum,
 * oneHot + softmaxCrossEntropy, argMax, gather and the relu/bias/matMul gradients, the only
 * kernel missing on wasm is Conv2DBackpropFilter (used by the stock Conv2D gradient for the
 * cases our fast gradient delegates — stride ≠ 1, NCHW — and by tf.fused.conv2d's gradient).
 *
 * It is implemented here with tfjs ops (pad, strided slices, concat, one matMul), all of which
 * wasm has. Ops called inside a kernel are not taped (the engine disables the tape while
 * kernelDepth > 0), and the intermediates are disposed by tidy.
 */
import * as tf from '@tensorflow/tfjs';
import { conv2dFilterGradIm2col } from './convGrad';

interface BackpropFilterAttrs {
  strides: number | [number, number];
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  filterShape: [number, number, number, number];
}

function asTensor(info: tf.TensorInfo): tf.Tensor {
  return info instanceof tf.Tensor ? info : tf.engine().makeTensorFromTensorInfo(info);
}

/** Conv2DBackpropFilter via im2col; same semantics as tfjs-core's conv2DBackpropFilter op. */
export function conv2dBackpropFilterViaIm2col(
  x4: tf.Tensor4D,
  dy4: tf.Tensor4D,
  attrs: BackpropFilterAttrs,
): tf.Tensor4D {
  return tf.tidy(() => {
    const nchw = attrs.dataFormat === 'NCHW';
    const x = nchw ? tf.transpose(x4, [0, 2, 3, 1]) : x4;
    const dy = nchw ? tf.transpose(dy4, [0, 2, 3, 1]) : dy4;
    const info = tf.backend_util.computeConv2DInfo(
      x.shape,
      attrs.filterShape,
      attrs.strides,
      1,
      attrs.pad,
      attrs.dimRoundingMode,
      false,
      'channelsLast',
    );
    const { top, bottom, left, right } = info.padInfo;
    return conv2dFilterGradIm2col(
      x,
      dy,
      attrs.filterShape,
      [info.strideHeight, info.strideWidth],
      [1, 1],
      { top: Math.max(0, top), bottom: Math.max(0, bottom), left: Math.max(0, left), right: Math.max(0, right) },
    );
  });
}

const registered = new Set<string>();

/**
 * Identity (tf.clone) without a copy: the output shares the input's buffer, counted by reference, as
 * on the cpu backend (tensors are immutable; wasm's Reshape shares buffers the same way). Why: the
 * engine clones every tensor a gradient saves, and tfjs-backend-wasm 4.22's Identity copies it —
 * 35 copies of activations per ConvNet-3 training step (~1.5 ms at batch 64).
 */
function registerSharedIdentity(): boolean {
  const stock = tf.getKernel('Identity', 'wasm');
  if (registered.has('Identity') || !stock) return false;
  registered.add('Identity');
  tf.unregisterKernel('Identity', 'wasm');
  tf.registerKernel({
    kernelName: 'Identity',
    backendName: 'wasm',
    kernelFunc: (args) => {
      const x = args.inputs.x as tf.TensorInfo;
      if (x.dtype === 'string') return stock.kernelFunc(args);
      (args.backend as tf.KernelBackend & { incRef(id: object): void }).incRef(x.dataId);
      return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
    },
  });
  return true;
}

/** Registers the missing kernels for 'wasm'. Idempotent; safe before or after the backend starts. */
export function registerWasmTrainingKernels(): string[] {
  const added: string[] = [];
  if (!registered.has('Conv2DBackpropFilter') && !tf.getKernel('Conv2DBackpropFilter', 'wasm')) {
    tf.registerKernel({
      kernelName: 'Conv2DBackpropFilter',
      backendName: 'wasm',
      kernelFunc: ({ inputs, attrs }) => {
        const x = asTensor(inputs.x as tf.TensorInfo) as tf.Tensor4D;
        const dy = asTensor(inputs.dy as tf.TensorInfo) as tf.Tensor4D;
        const out = conv2dBackpropFilterViaIm2col(x, dy, attrs as unknown as BackpropFilterAttrs);
        // Wrappers made for bare TensorInfos hold a reference; release it.
        if (x !== inputs.x) x.dispose();
        if (dy !== inputs.dy) dy.dispose();
        return out;
      },
    });
    added.push('Conv2DBackpropFilter');
  }
  registered.add('Conv2DBackpropFilter');
  if (registerSharedIdentity()) added.push('Identity');
  return added;
}
