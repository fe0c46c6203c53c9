export {
  registerFastConv2dGradient,
  unregisterFastConv2dGradient,
  fastConv2dGradientVariant,
  conv2dFilterGradIm2col,
  conv2dFilterGradStride1,
  convGradStats,
  DEFAULT_FILTER_GRAD_VARIANT,
  type FilterGradVariant,
} from './convGrad';
export {
  installKernels,
  uninstallKernels,
  kernelsInstalled,
  kernelsPrecheck,
  KERNELS_CHOICES,
  KERNELS_WRITTEN_FOR,
  type InstallKernelsOptions,
  type KernelsChoice,
  type KernelsReport,
} from './kernels';
export { registerFastMatMulGradient, unregisterFastMatMulGradient, fastMatMul, matMulGradStats } from './matMulGrad';
export {
  selectBackend,
  probeWebgl,
  probeWebgpu,
  BACKEND_NAMES,
  DEFAULT_WASM_THREADS,
  type BackendName,
  type BackendSelection,
  type SelectBackendOptions,
  type WebglProbe,
  type WebgpuProbe,
} from './selectBackend';
