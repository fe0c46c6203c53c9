/** Node has no WebGL: exercises the request / fallback / verification logic. */
import { describe, expect, test } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { probeWebgl, selectBackend } from './selectBackend';
import { fastConv2dGradientVariant } from './convGrad';

describe('selectBackend (Node, no WebGL)', () => {
  test('probe reports WebGL unavailable without a canvas', () => {
    expect(probeWebgl()).toMatchObject({ available: false, renderer: null, software: false });
  });

  test('a requested backend that initialises wins', async () => {
    const sel = await selectBackend('cpu');
    expect(sel.backend).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
    expect(sel.reason).toMatch(/requested cpu/);
    expect(fastConv2dGradientVariant()).not.toBeNull();
  });

  test('a requested backend that fails falls back and says why', async () => {
    const sel = await selectBackend('webgl');
    expect(sel.backend).not.toBe('webgl');
    expect(sel.backend).toBe(tf.getBackend());
    expect(sel.reason).toMatch(/requested webgl/);
    expect(sel.reason).toMatch(/WebGL is unavailable/);
  });

  test('default: no WebGL → wasm (or cpu if wasm cannot load), verified', async () => {
    const sel = await selectBackend();
    expect(['wasm', 'cpu']).toContain(sel.backend);
    expect(sel.backend).toBe(tf.getBackend());
    expect(sel.reason.length).toBeGreaterThan(10);
    if (sel.backend === 'wasm') expect(sel.threads).toBeGreaterThanOrEqual(1);
  });
});
