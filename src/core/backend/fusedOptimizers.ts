/**
 * tfjs's Adam and SGD-momentum optimisers with the per-variable update done by one SIMD kernel on
 * the wasm backend (src/core/backend/wasmSimd/optimizerUpdate.ts) instead of ~12 tfjs ops. Same state
 * (moments, accumulated β powers, iterations), same arithmetic in the same order, so the weights are
 * those the stock optimisers give; on other backends, or without the kernel, the stock code runs.
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { simdContext } from './wasmSimd';
import { type OptimizerUpdateKernels, instantiateOptimizerUpdate } from './wasmSimd/optimizerUpdate';

const ADAM = 'PlaygroundAdamUpdate';
const MOMENTUM = 'PlaygroundMomentumUpdate';

let cached: { memory: WebAssembly.Memory; kernels: OptimizerUpdateKernels | null } | null = null;
let enabled = true;
/** Off until installKernels (kernels.ts) turns the custom kernels on: the stock tfjs update meanwhile. */
let installed = false;

/** For A/B measurements and tests: the stock tfjs update when off. */
export function setFusedOptimizerEnabled(on: boolean): void {
  enabled = on;
}

/** installKernels' switch (setFusedOptimizerEnabled works within it). */
export function setFusedOptimizerInstalled(on: boolean): void {
  installed = on;
}

function kernels(): OptimizerUpdateKernels | null {
  const ctx = installed && enabled ? simdContext() : null;
  if (!ctx) return null;
  if (cached?.memory !== ctx.memory) {
    let k: OptimizerUpdateKernels | null;
    try {
      k = instantiateOptimizerUpdate(ctx.memory, ctx.shared);
    } catch {
      k = null; // stay on the tfjs ops
    }
    cached = { memory: ctx.memory, kernels: k };
  }
  return cached.kernels;
}

const ptr = (backend: BackendWasm, t: tf.TensorInfo) => backend.dataIdMap.get(t.dataId)!.memoryOffset;

/** Runs `f` with a malloc'ed block holding `params` (float32) on the backend's heap. */
function withParams(backend: BackendWasm, params: number[], f: (p: number) => void): void {
  const em = backend.wasm as unknown as { _malloc(n: number): number; _free(p: number): void };
  const p = em._malloc(params.length * 4);
  try {
    new Float32Array(cached!.memory.buffer, p, params.length).set(params);
    f(p);
  } finally {
    em._free(p);
  }
}

/** The two update kernels (installKernels registers them). */
export const fusedOptimizerKernels = (): tf.KernelConfig[] => [
  {
    kernelName: ADAM,
    backendName: 'wasm',
    kernelFunc: ({ inputs, attrs, backend: b }) => {
      const backend = b as BackendWasm;
      const [w, g, m, v] = ['w', 'g', 'm', 'v'].map((k) => inputs[k] as tf.TensorInfo);
      const outs = [w, m, v].map((t) => backend.makeOutput(t.shape, 'float32'));
      const { params } = attrs as unknown as { params: number[] };
      const n = tf.util.sizeFromShape(w.shape);
      withParams(backend, params, (p) => cached!.kernels!.adam(ptr(backend, w), ptr(backend, g), ptr(backend, m), ptr(backend, v), n, p, ...outs.map((o) => ptr(backend, o))));
      return outs;
    },
  },
  {
    kernelName: MOMENTUM,
    backendName: 'wasm',
    kernelFunc: ({ inputs, attrs, backend: b }) => {
      const backend = b as BackendWasm;
      const [w, g, a] = ['w', 'g', 'a'].map((k) => inputs[k] as tf.TensorInfo);
      const outs = [w, a].map((t) => backend.makeOutput(t.shape, 'float32'));
      const { params } = attrs as unknown as { params: number[] };
      const n = tf.util.sizeFromShape(w.shape);
      withParams(backend, params, (p) => cached!.kernels!.momentum(ptr(backend, w), ptr(backend, g), ptr(backend, a), n, p, ...outs.map((o) => ptr(backend, o))));
      return outs;
    },
  },
];

type Grads = Parameters<tf.AdamOptimizer['applyGradients']>[0];
interface Slot {
  originalName: string;
  variable: tf.Variable;
}

/** [name, variable, gradient] for each variable with a gradient, in the order tfjs's optimisers use. */
function entries(grads: Grads): Array<[number, string, tf.Variable, tf.Tensor]> {
  const names = Array.isArray(grads) ? grads.map((g) => g.name) : Object.keys(grads);
  const out: Array<[number, string, tf.Variable, tf.Tensor]> = [];
  names.forEach((name, i) => {
    const g: tf.Tensor | undefined = Array.isArray(grads) ? grads[i].tensor : grads[name];
    if (g != null) out.push([i, name, tf.engine().registeredVariables[name], g]);
  });
  return out;
}

function slot(slots: Slot[], i: number, name: string, suffix: string, like: tf.Variable): tf.Variable {
  slots[i] ??= { originalName: `${name}/${suffix}`, variable: tf.tidy(() => tf.zerosLike(like).variable(false)) };
  return slots[i].variable;
}

interface AdamState {
  accBeta1: tf.Variable;
  accBeta2: tf.Variable;
  accumulatedFirstMoment: Slot[];
  accumulatedSecondMoment: Slot[];
}

export class FusedAdamOptimizer extends tf.AdamOptimizer {
  /** The learning rate of the next steps (a schedule sets it per step; both update paths read it). */
  setLearningRate(lr: number): void {
    this.learningRate = lr;
  }

  override applyGradients(grads: Grads): void {
    if (!kernels()) return super.applyGradients(grads);
    const s = this as unknown as AdamState;
    const f = Math.fround;
    // tfjs: 1 − accβ in float32 (the accumulated powers are float32 scalars).
    const c1 = f(1 - s.accBeta1.dataSync()[0]);
    const c2 = f(1 - s.accBeta2.dataSync()[0]);
    const params = [f(this.beta1), f(1 - this.beta1), f(this.beta2), f(1 - this.beta2), c1, c2, f(this.epsilon), f(-this.learningRate)];
    for (const [i, name, value, g] of entries(grads)) {
      const m = slot(s.accumulatedFirstMoment, i, name, 'm', value);
      const v = slot(s.accumulatedSecondMoment, i, name, 'v', value);
      const [w2, m2, v2] = tf.engine().runKernel(ADAM, { w: value, g, m, v }, { params } as unknown as tf.NamedAttrMap) as tf.Tensor[];
      m.assign(m2);
      v.assign(v2);
      value.assign(w2);
      tf.dispose([w2, m2, v2]); // assign took the data; these handles are extra references
    }
    tf.tidy(() => {
      s.accBeta1.assign(tf.mul(s.accBeta1, this.beta1));
      s.accBeta2.assign(tf.mul(s.accBeta2, this.beta2));
    });
    this.incrementIterations();
  }
}

interface MomentumState {
  momentum: number;
  useNesterov: boolean;
  accumulations: Slot[];
}

export class FusedMomentumOptimizer extends tf.MomentumOptimizer {
  override applyGradients(grads: Grads): void {
    const s = this as unknown as MomentumState;
    if (s.useNesterov || !kernels()) return super.applyGradients(grads);
    const params = [Math.fround(s.momentum), Math.fround(-this.learningRate)];
    for (const [i, name, value, g] of entries(grads)) {
      const a = slot(s.accumulations, i, name, 'momentum', value);
      const [w2, a2] = tf.engine().runKernel(MOMENTUM, { w: value, g, a }, { params } as unknown as tf.NamedAttrMap) as tf.Tensor[];
      a.assign(a2);
      value.assign(w2);
      tf.dispose([w2, a2]);
    }
    this.incrementIterations();
  }
}
