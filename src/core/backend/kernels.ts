/**
 * The one switch for the playground's custom kernels: the fast Conv2D and matMul gradients, the conv
 * blocks with their own gradients, the WebAssembly SIMD kernels, the fused optimiser update and the
 * replaced wasm Identity / GatherV2 / Slice. Nothing registers on import: until installKernels() turns them on,
 * everything runs stock tfjs kernels and gradients.
 *
 * Why a switch: the custom kernels reach into tfjs-backend-wasm 4.22's internals (its Emscripten memory
 * and malloc, `dataIdMap`, the optimisers' private fields, re-registered stock kernels). So they are
 * only installed
 * - when asked (`kernels: 'stock'` — the page's `?kernels=stock` — keeps tfjs stock),
 * - on the tfjs version they were written for (KERNELS_WRITTEN_FOR), and
 * - when a start-up self-check passes: a tiny conv + BatchNorm + ReLU (+ pool) block, a conv + bias +
 *   ReLU block, a dense layer's gradient, a gather and two optimiser steps, forward and backward, on
 *   the active backend, against the same computation with the stock kernels, to SELF_CHECK_TOLERANCE.
 * Otherwise stock tfjs runs and the report says why, for the page to show.
 *
 * One thing stays in stock mode: tfjs-backend-wasm 4.22 has no Conv2DBackpropFilter kernel, so no conv
 * layer could train on wasm; the one registered here (wasmKernels.ts) is built from public tfjs ops.
 */
import * as tf from '@tensorflow/tfjs';
// The version module alone: the package's index would register the wasm backend wherever this file is imported.
import { version as version_wasm } from '@tensorflow/tfjs-backend-wasm/dist/version';
import { version as version_webgpu } from '@tensorflow/tfjs-backend-webgpu/dist/version';
import { convBlockKernels, convBiasRelu, convBiasReluPool, batchNormRelu, conv2dSame, setConvBlocksInstalled } from './convBlock';
import { registerFastConv2dGradient, unregisterFastConv2dGradient } from './convGrad';
import { FusedAdamOptimizer, FusedMomentumOptimizer, fusedOptimizerKernels, setFusedOptimizerInstalled } from './fusedOptimizers';
import { registerFastMatMulGradient, unregisterFastMatMulGradient } from './matMulGrad';
import { registerMissingWasmKernels, wasmKernelOverrides } from './wasmKernels';
import { setSimdKernelsInstalled, simdKernelConfigs, simdKernelInfo } from './wasmSimd';
import { conv3x3Kernel } from './wasmSimd/conv3x3';
import { denseKernel, simdDense } from './wasmSimd/denseLayer';
import { winogradFilterGradKernel } from './wasmSimd/convFilterGrad3x3';
import { conv1x1Stride2Kernel } from './wasmSimd/conv1x1Stride2';
import { conv3x3Stride2Kernel } from './wasmSimd/conv3x3Stride2';

export type KernelsChoice = 'custom' | 'stock';
export const KERNELS_CHOICES: readonly KernelsChoice[] = ['custom', 'stock'];

/** The tfjs release the custom kernels were written for; every package listed must be this one. */
export const KERNELS_WRITTEN_FOR = '4.22.0';
const CHECKED_PACKAGES = ['tfjs-core', 'tfjs-backend-cpu', 'tfjs-backend-webgl', 'tfjs-backend-wasm', 'tfjs-backend-webgpu'];

/** Largest difference the self-check accepts, relative to max(1, |stock value|). */
export const SELF_CHECK_TOLERANCE = 1e-4;

export interface InstallKernelsOptions {
  /** 'stock' keeps tfjs's own kernels (the kill switch); default 'custom'. */
  kernels?: KernelsChoice;
  /** Package → version (default: the installed tf.version plus tfjs-backend-wasm's); tests inject another. */
  tfjsVersion?: Record<string, string>;
  /** Run the self-check on the active backend (default true; the unit suite's setup turns it off). */
  selfCheck?: boolean;
  /** Tests: wraps each custom kernel as it is registered (a deliberately broken one must fail the self-check). */
  wrapKernel?: (name: string, kernel: tf.KernelFunc) => tf.KernelFunc;
}

export interface SelfCheckResult {
  backend: string;
  passed: boolean;
  /** Largest difference found (relative to max(1, |stock|)), and where. */
  maxDiff: number;
  worst: string;
  tolerance: number;
  /** Set when the custom path threw. */
  error?: string;
}

export interface KernelsReport {
  /** What runs: the custom kernels, or stock tfjs. */
  active: KernelsChoice;
  /** What was asked for. */
  requested: KernelsChoice;
  /** Kernels and gradients installed (the wasm Conv2DBackpropFilter tfjs lacks is listed in both modes). */
  installed: string[];
  /** Why stock although custom was asked for (null when custom runs or stock was asked for). */
  reason: 'version' | 'self-check' | null;
  /** A sentence for the page: why stock runs (null when the custom kernels run). */
  notice: string | null;
  selfCheck?: SelfCheckResult;
  /** wasm: threads the custom SIMD kernels use (they start their helper thread at install). */
  threads?: number;
}

/** The installed packages' versions. */
export function tfjsVersions(): Record<string, string> {
  return { ...(tf.version as Record<string, string>), 'tfjs-backend-wasm': version_wasm, 'tfjs-backend-webgpu': version_webgpu };
}

/**
 * Why the custom kernels must not be installed before any backend starts (null: they may): switched
 * off, or another tfjs version. The backend start-up's loader fixes (selectBackend's tfjsPatches)
 * follow the same answer.
 */
export function kernelsPrecheck(options: Pick<InstallKernelsOptions, 'kernels' | 'tfjsVersion'> = {}): string | null {
  if (options.kernels === 'stock') return 'stock tfjs kernels (kernels=stock)';
  const versions = options.tfjsVersion ?? tfjsVersions();
  const other = CHECKED_PACKAGES.filter((p) => versions[p] !== undefined && versions[p] !== KERNELS_WRITTEN_FOR);
  if (other.length) {
    const found = other.map((p) => `${p} ${versions[p]}`).join(', ');
    return `stock tfjs kernels: the custom kernels were written for tfjs ${KERNELS_WRITTEN_FOR}, this page has ${found}`;
  }
  return null;
}

// ------------------------------------------------------------------ install / uninstall

let installedNames: string[] | null = null;
/** The stock configs of the wasm kernels replaced (to put back). */
const replaced = new Map<string, tf.KernelConfig>();
/** Self-check results per backend (without a wrapKernel): a backend is checked once. */
const checked = new Map<string, SelfCheckResult>();

function install(wrap?: InstallKernelsOptions['wrapKernel']): string[] {
  const w = (c: tf.KernelConfig): tf.KernelConfig => (wrap ? { ...c, kernelFunc: wrap(c.kernelName, c.kernelFunc) } : c);
  const names = installedNames ?? [];
  if (!installedNames) {
    registerFastConv2dGradient();
    registerFastMatMulGradient();
    names.push('Conv2D gradient', 'BatchMatMul gradient');
    for (const c of [...convBlockKernels(), ...simdKernelConfigs(), conv3x3Kernel, conv1x1Stride2Kernel, conv3x3Stride2Kernel, denseKernel, winogradFilterGradKernel, ...fusedOptimizerKernels()]) {
      if (tf.getKernel(c.kernelName, c.backendName)) tf.unregisterKernel(c.kernelName, c.backendName);
      tf.registerKernel(w(c));
      if (!names.includes(c.kernelName)) names.push(c.kernelName);
    }
  }
  // Also on a later call: the wasm package registers its kernels when it is imported, which may be after a first install.
  for (const o of wasmKernelOverrides()) {
    const stock = tf.getKernel(o.name, 'wasm');
    if (!stock || replaced.has(o.name)) continue;
    replaced.set(o.name, stock);
    tf.unregisterKernel(o.name, 'wasm');
    tf.registerKernel(w({ kernelName: o.name, backendName: 'wasm', setupFunc: stock.setupFunc, disposeFunc: stock.disposeFunc, kernelFunc: o.make(stock) }));
    names.push(`${o.name} (wasm)`);
  }
  setConvBlocksInstalled(true);
  setSimdKernelsInstalled(true);
  setFusedOptimizerInstalled(true);
  installedNames = names;
  return names;
}

/** Back to stock tfjs: every custom kernel unregistered, the replaced stock kernels and gradients restored. */
export function uninstallKernels(): void {
  setConvBlocksInstalled(false);
  setSimdKernelsInstalled(false);
  setFusedOptimizerInstalled(false);
  unregisterFastConv2dGradient();
  unregisterFastMatMulGradient();
  for (const c of [...convBlockKernels(), ...simdKernelConfigs(), conv3x3Kernel, conv1x1Stride2Kernel, conv3x3Stride2Kernel, denseKernel, winogradFilterGradKernel, ...fusedOptimizerKernels()]) {
    if (tf.getKernel(c.kernelName, c.backendName)) tf.unregisterKernel(c.kernelName, c.backendName);
  }
  for (const [name, stock] of replaced) {
    tf.unregisterKernel(name, 'wasm');
    tf.registerKernel(stock);
  }
  replaced.clear();
  installedNames = null;
  checked.clear();
}

/** True while the custom kernels are installed. */
export function kernelsInstalled(): boolean {
  return installedNames !== null;
}

/**
 * Installs the custom kernels, or keeps / puts back stock tfjs (see the file comment). Call it after
 * the backend started (the self-check runs on it) and again after a backend switch. Idempotent.
 */
export async function installKernels(options: InstallKernelsOptions = {}): Promise<KernelsReport> {
  const requested = options.kernels ?? 'custom';
  const always = registerMissingWasmKernels().map((k) => `${k} (wasm lacks it; from tfjs ops)`);
  const stock = (reason: KernelsReport['reason'], notice: string | null, selfCheck?: SelfCheckResult): KernelsReport => ({
    active: 'stock',
    requested,
    installed: always,
    reason,
    notice,
    ...(selfCheck ? { selfCheck } : {}),
  });
  const pre = kernelsPrecheck(options);
  if (pre) {
    uninstallKernels();
    return stock(requested === 'stock' ? null : 'version', pre);
  }
  const backend = tf.getBackend();
  let result: SelfCheckResult | undefined = options.wrapKernel ? undefined : checked.get(backend);
  if (options.selfCheck === false) {
    install(options.wrapKernel);
  } else if (!result) {
    if (options.wrapKernel) uninstallKernels(); // the check compares against stock: start from it
    result = await selfCheck(backend, options.wrapKernel);
    if (!options.wrapKernel) checked.set(backend, result);
  }
  if (result && !result.passed) {
    uninstallKernels();
    if (!options.wrapKernel) checked.set(backend, result);
    const what = result.error ? `the custom path failed (${result.error})` : `largest difference ${result.maxDiff.toExponential(1)} in ${result.worst}, more than ${result.tolerance}`;
    return stock('self-check', `stock tfjs kernels: the custom kernels failed their start-up self-check on ${backend} (${what})`, result);
  }
  const names = install(options.wrapKernel);
  // Compile the SIMD kernels and start their helper thread now (a worker boots only when its creator
  // returns to the event loop, which a training loop may do only between steps), then give it a turn.
  const threads = backend === 'wasm' ? simdKernelInfo()?.threads : undefined;
  if (threads) await new Promise((r) => setTimeout(r, 0));
  return { active: 'custom', requested, installed: [...names, ...always], reason: null, notice: null, ...(result ? { selfCheck: result } : {}), ...(threads ? { threads } : {}) };
}

// ------------------------------------------------------------------ the self-check

/** A seeded uniform [-1, 1) tensor (mulberry32): the check is the same at every start. */
function seeded(shape: number[], seed: number): tf.Tensor {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return tf.tensor(Float32Array.from({ length: shape.reduce((x, y) => x * y, 1) }, () => next() * 2 - 1), shape, 'float32');
}

/**
 * Everything the custom kernels replace, on tiny tensors: ConvNet-3's training block (conv → BatchNorm
 * with batch statistics → ReLU → 2×2 max-pool) with a data input and a differentiated one, SimpleCNN's
 * conv + bias + ReLU, the evaluation block with the pool in the conv, a dense layer wide enough for its
 * SIMD weight gradient, a batch gather, a row slice, and two Adam and two SGD-momentum steps. Named outputs.
 */
async function checkComputation(): Promise<Map<string, Float32Array>> {
  const out = new Map<string, Float32Array>();
  const inputs = [
    seeded([3, 4, 4, 3], 1), // x
    seeded([3, 3, 3, 4], 2), // conv1 filter
    tf.tidy(() => tf.add(seeded([4], 3), 1.5)), // γ away from 0
    seeded([4], 4), // β
    seeded([3, 3, 4, 5], 5), // conv2 filter
    seeded([5], 6), // conv2 bias
  ];
  const [xData, rows] = [seeded([5, 4, 4, 3], 7), tf.tensor1d([4, 0, 2], 'int32')];
  const wide = [seeded([2, 1024], 8), seeded([1024, 3], 9)];
  const r1 = seeded([3, 2, 2, 5], 10);
  const r2 = seeded([2, 3], 11);
  const classifier = [seeded([1024, 5], 20), seeded([5], 21)];
  try {
    const block = (x: tf.Tensor, w1: tf.Tensor, g: tf.Tensor, b: tf.Tensor, w2: tf.Tensor, b2: tf.Tensor) => {
      const z = conv2dSame(x as tf.Tensor4D, w1 as tf.Tensor4D);
      const bn = batchNormRelu(z, g as tf.Tensor1D, b as tf.Tensor1D, 1e-5, true);
      tf.dispose([bn.mean, bn.variance]);
      return tf.sum(tf.mul(convBiasRelu(bn.y, w2 as tf.Tensor4D, b2 as tf.Tensor1D), r1));
    };
    const put = async (name: string, t: tf.Tensor) => {
      out.set(name, (await t.data()) as Float32Array);
      t.dispose();
    };
    const gradNames = ['∂x', '∂conv1', '∂γ', '∂β', '∂conv2', '∂bias2'];
    const { value, grads } = tf.tidy(() => {
      const vg = tf.valueAndGrads(block)(inputs);
      return { value: vg.value, grads: vg.grads };
    });
    await put('conv+BatchNorm+ReLU+pool → conv+bias+ReLU forward', value);
    for (let i = 0; i < grads.length; i++) await put(`${gradNames[i]} backward`, grads[i]);
    const stats = tf.tidy(() => {
      const z = conv2dSame(inputs[0] as tf.Tensor4D, inputs[1] as tf.Tensor4D);
      const bn = batchNormRelu(z, inputs[2] as tf.Tensor1D, inputs[3] as tf.Tensor1D, 1e-5, false);
      return [bn.y, bn.mean, bn.variance];
    });
    await put('BatchNorm+ReLU forward', stats[0]);
    await put('BatchNorm batch mean', stats[1]);
    await put('BatchNorm batch variance', stats[2]);
    await put('conv+bias+ReLU+pool (evaluation)', tf.tidy(() => convBiasReluPool(inputs[0] as tf.Tensor4D, inputs[4].slice([0, 0, 0, 0], [3, 3, 3, 5]) as tf.Tensor4D, inputs[5] as tf.Tensor1D)));
    await put('batch gather', tf.tidy(() => tf.clone(tf.gather(xData, rows))));
    await put('row slice', tf.tidy(() => tf.clone(tf.slice(xData, [1, 0, 0, 0], [3, 4, 4, 3]))));
    const dense = tf.tidy(() => tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D), r2)))(wide));
    await put('dense ∂input', dense[0]);
    await put('dense ∂weights', dense[1]);
    const [a, w, b] = [wide[0] as tf.Tensor2D, classifier[0] as tf.Tensor2D, classifier[1] as tf.Tensor1D];
    await put('dense + bias (evaluation)', tf.tidy(() => simdDense(a, w, b) ?? tf.add(tf.matMul(a, w), b)));
    for (const [name, make] of [
      ['Adam', () => new FusedAdamOptimizer(0.01, 0.9, 0.999)],
      ['SGD momentum', () => new FusedMomentumOptimizer(0.01, 0.9)],
    ] as const) {
      const init = seeded([6], 12);
      const v = tf.variable(init, true);
      init.dispose();
      const opt = make();
      for (let step = 0; step < 2; step++) {
        tf.tidy(() => {
          opt.minimize(() => tf.sum(tf.mul(tf.square(v), seeded([6], 13 + step))) as tf.Scalar, false, [v]);
        });
      }
      const c = (opt as unknown as { c?: tf.Tensor }).c; // tfjs 4.22's momentum scalar outlives dispose()
      opt.dispose();
      if (c && !c.isDisposed) c.dispose();
      await put(`${name} steps`, v);
    }
  } finally {
    tf.dispose([...inputs, xData, rows, ...wide, r1, r2, ...classifier]);
  }
  return out;
}

/** The check's computation with the stock kernels, then with the custom ones installed; compared. Leaves them installed. */
async function selfCheck(backend: string, wrap?: InstallKernelsOptions['wrapKernel']): Promise<SelfCheckResult> {
  const base: SelfCheckResult = { backend, passed: false, maxDiff: Infinity, worst: '', tolerance: SELF_CHECK_TOLERANCE };
  const wasInstalled = kernelsInstalled();
  if (wasInstalled) uninstallKernels();
  let stock: Map<string, Float32Array>;
  try {
    stock = await checkComputation();
  } catch (e) {
    // Stock tfjs itself fails here: nothing to compare with; the custom kernels are not to blame.
    install(wrap);
    return { ...base, passed: true, maxDiff: 0, worst: `not compared (stock tfjs failed: ${String(e)})` };
  }
  install(wrap);
  let custom: Map<string, Float32Array>;
  try {
    custom = await checkComputation();
  } catch (e) {
    return { ...base, error: e instanceof Error ? e.message : String(e) };
  }
  let maxDiff = 0;
  let worst = '';
  for (const [name, ref] of stock) {
    const got = custom.get(name)!;
    for (let i = 0; i < ref.length; i++) {
      const d = Math.abs(got[i] - ref[i]) / Math.max(1, Math.abs(ref[i]));
      if (!(d <= maxDiff)) {
        maxDiff = Number.isNaN(d) ? Infinity : d;
        worst = name;
      }
    }
  }
  return { ...base, passed: maxDiff <= SELF_CHECK_TOLERANCE, maxDiff, worst };
}
