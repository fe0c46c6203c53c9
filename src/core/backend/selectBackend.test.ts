/** Node has no WebGL: exercises the request / fallback / verification logic. */
import { afterEach, beforeEach, describe, expect, test, vi, type MockInstance } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { probeWebgl, probeWebglEarly, selectBackend } from './selectBackend';
import { fastConv2dGradientVariant } from './convGrad';

/**
 * Under Vitest the wasm binaries' URLs ('/node_modules/…/tfjs-backend-wasm-simd.wasm') do not
 * exist, so every wasm start fails with ENOENT, and tfjs and emscripten say so on console.warn
 * (with stack traces). That is the fallback under test: capture it instead of printing it, and
 * check it is exactly that.
 */
let warn: MockInstance<typeof console.warn>;
let error: MockInstance<typeof console.error>;
beforeEach(() => {
  warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
  error = vi.spyOn(console, 'error').mockImplementation(() => {});
});
afterEach(() => {
  vi.restoreAllMocks();
});

/** Tfjs's "you are running TensorFlow.js in Node.js" banner, printed on the first cpu tensor. */
const NODE_BANNER = /looks like you are running TensorFlow\.js in Node\.js/;

/** Everything written to console.warn / console.error during the test, one string per call. */
function consoleOutput(): string[] {
  return [...warn.mock.calls, ...error.mock.calls]
    .map((args) => args.map((a) => (a instanceof Error ? (a.stack ?? a.message) : String(a))).join(' '))
    .filter((text) => !NODE_BANNER.test(text));
}

/** The fallback past wasm printed tfjs's init failure, and nothing that is not about wasm. */
function expectOnlyWasmFailureOutput(): void {
  const out = consoleOutput();
  expect(out).toContain('Initialization of backend wasm failed');
  expect(out.some((t) => /ENOENT.*tfjs-backend-wasm.*\.wasm/.test(t))).toBe(true);
  for (const text of out) expect(text).toMatch(/wasm/i);
}

describe('selectBackend (Node, no WebGL)', () => {
  test('probe reports WebGL unavailable without a canvas', () => {
    expect(probeWebgl()).toMatchObject({ available: false, renderer: null, software: false });
    expect(consoleOutput()).toEqual([]);
  });

  test('an early probe (the engine worker takes it at start) serves the next selection once, then it probes again', async () => {
    let contexts = 0;
    const gl = { getExtension: (n: string) => (n === 'WEBGL_debug_renderer_info' ? { UNMASKED_RENDERER_WEBGL: 1, UNMASKED_VENDOR_WEBGL: 2 } : null), getParameter: (p: number) => (p === 1 ? 'ANGLE (SwiftShader Device)' : 'Google'), RENDERER: 3, VENDOR: 4 };
    vi.stubGlobal('OffscreenCanvas', class {
      getContext() {
        contexts++;
        return gl;
      }
    });
    try {
      probeWebglEarly();
      probeWebglEarly(); // one probe kept
      expect(contexts).toBe(1);
      const first = await selectBackend('cpu');
      expect(contexts).toBe(1);
      expect(first.renderer).toBe('ANGLE (SwiftShader Device)');
      await selectBackend('cpu');
      expect(contexts).toBe(2);
    } finally {
      vi.unstubAllGlobals();
    }
  });

  test('a requested backend that initialises wins', async () => {
    const sel = await selectBackend('cpu');
    expect(sel.backend).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
    expect(sel.reason).toBe('requested cpu');
    expect(fastConv2dGradientVariant()).not.toBeNull();
    expect(consoleOutput()).toEqual([]);
  });

  test('a requested backend that fails falls back and says why', async () => {
    const sel = await selectBackend('webgl');
    expect(sel.backend).not.toBe('webgl');
    expect(sel.backend).toBe(tf.getBackend());
    expect(sel.reason).toMatch(/^requested webgl/);
    expect(sel.reason).toMatch(/WebGL is unavailable/);
    if (sel.backend === 'cpu') {
      // wasm was tried next and its failure is in the reason, then cpu.
      expect(sel.reason).toMatch(/; wasm (did not|failed to) initialise.*; WebGL is unavailable; nothing faster initialised/);
      expect(sel.reason).toMatch(/plain JavaScript cpu backend$/);
      expectOnlyWasmFailureOutput();
    }
  });

  test('default: no WebGL → wasm (or cpu if wasm cannot load), verified', async () => {
    const sel = await selectBackend();
    expect(['wasm', 'cpu']).toContain(sel.backend);
    expect(sel.backend).toBe(tf.getBackend());
    if (sel.backend === 'wasm') {
      expect(sel.threads).toBeGreaterThanOrEqual(1);
      expect(sel.reason).toMatch(/^WebGL is unavailable, so WASM \(SIMD/);
    } else {
      expect(sel.reason).toMatch(/^wasm (did not|failed to) initialise.*; WebGL is unavailable; nothing faster initialised/);
      expect(sel.reason).toMatch(/plain JavaScript cpu backend$/);
      expectOnlyWasmFailureOutput();
    }
  });
});
