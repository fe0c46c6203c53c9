/** The GPU flags scripts/bench-backends.mjs launches Chromium with (docs/backends.md lists them). */
import { describe, expect, test } from 'vitest';
import { gpuFlags } from './bench-backends.mjs';
import { CHROMIUM_ARGS } from './browser.mjs';

describe('gpuFlags', () => {
  test('the e2e flags without their software ANGLE, plus what a real GPU needs', () => {
    expect(CHROMIUM_ARGS).toContain('--use-angle=swiftshader');
    const flags: string[] = gpuFlags('vulkan', undefined);
    expect(flags).not.toContain('--use-angle=swiftshader');
    expect(flags).toEqual(expect.arrayContaining(['--headless=new', '--enable-gpu', '--ignore-gpu-blocklist', '--enable-unsafe-webgpu', '--use-angle=vulkan', '--enable-features=Vulkan']));
    expect(gpuFlags('d3d11', undefined)).toContain('--use-angle=d3d11');
    expect(gpuFlags('d3d11', undefined)).not.toContain('--enable-features=Vulkan');
    expect(gpuFlags('default', undefined).some((f: string) => f.startsWith('--use-angle'))).toBe(false);
  });
  test('BENCH_GPU_FLAGS replaces the extra flags', () => {
    const flags: string[] = gpuFlags('vulkan', '--use-gl=egl  --enable-unsafe-webgpu');
    expect(flags.slice(-2)).toEqual(['--use-gl=egl', '--enable-unsafe-webgpu']);
    expect(flags).not.toContain('--enable-gpu');
  });
});
