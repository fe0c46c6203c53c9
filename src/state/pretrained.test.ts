import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';

const weights = new Uint8Array(readFileSync(new URL('../../public/models/simplecnn.safetensors', import.meta.url)));
const manifest = JSON.parse(readFileSync(new URL('../../public/models/manifest.json', import.meta.url), 'utf8'));

/** A fetch that serves the given files; anything else answers like a static server's SPA fallback (200, HTML). */
function serve(files: Record<string, { body: BodyInit; type: string; status?: number }>) {
  return vi.fn(async (url: string) => {
    const f = files[url];
    if (!f) return new Response('<!doctype html>', { status: 200, headers: { 'content-type': 'text/html' } });
    return new Response(f.body, { status: f.status ?? 200, headers: { 'content-type': f.type } });
  });
}

async function load(files: Parameters<typeof serve>[0]) {
  vi.resetModules(); // the manifest is cached per module instance
  vi.stubGlobal('fetch', serve(files));
  const { loadPretrained } = await import('./pretrained');
  return loadPretrained('simplecnn');
}

afterEach(() => vi.unstubAllGlobals());

describe('pretrained baselines', () => {
  it('the shipped manifest matches the shipped file (SHA-256), and the weights load', async () => {
    expect(createHash('sha256').update(weights).digest('hex')).toBe(manifest.models.simplecnn.sha256);
    const p = await load({ 'models/manifest.json': { body: JSON.stringify(manifest), type: 'application/json' }, 'models/simplecnn.safetensors': { body: weights, type: 'application/octet-stream' } });
    expect(p).toMatchObject({ seed: 42, epochs: 10, testAccuracy: manifest.models.simplecnn.testAccuracy, backend: 'wasm' });
    expect(p!.weights.channels).toEqual([64]);
  });

  it('a build without models (404 or an HTML fallback) starts untrained, without an error', async () => {
    expect(await load({})).toBeNull();
    expect(await load({ 'models/manifest.json': { body: 'nope', type: 'text/plain', status: 404 } })).toBeNull();
  });

  it('a file that does not match its manifest is refused with a message', async () => {
    const damaged = weights.slice();
    damaged[damaged.length - 1] ^= 1;
    await expect(
      load({ 'models/manifest.json': { body: JSON.stringify(manifest), type: 'application/json' }, 'models/simplecnn.safetensors': { body: damaged, type: 'application/octet-stream' } }),
    ).rejects.toThrow(/does not match its manifest/);
  });

  it('ResNet-20 loads its full-data run (resnet20-full) and says what it is from the manifest entry', async () => {
    const file = new Uint8Array(readFileSync(new URL('../../public/models/resnet20-full.safetensors', import.meta.url)));
    const entry = manifest.models['resnet20-full'];
    expect(createHash('sha256').update(file).digest('hex')).toBe(entry.sha256);
    vi.resetModules();
    vi.stubGlobal('fetch', serve({ 'models/manifest.json': { body: JSON.stringify(manifest), type: 'application/json' }, 'models/resnet20-full.safetensors': { body: file, type: 'application/octet-stream' } }));
    const { loadPretrained, aboutEntry } = await import('./pretrained');
    const p = await loadPretrained('resnet20');
    expect(p!.weights.model).toBe('resnet20');
    expect(p!.epochs).toBe(entry.epochs);
    expect(p!.about).toBe(aboutEntry(entry)); // the wording itself: the test below
    // A chain model's 5,000-image baseline keeps its own wording (no 'about').
    expect((await load({ 'models/manifest.json': { body: JSON.stringify(manifest), type: 'application/json' }, 'models/simplecnn.safetensors': { body: weights, type: 'application/octet-stream' } }))!.about).toBeUndefined();
  });
});

describe('aboutEntry (what the page says about a full-data baseline)', () => {
  it('says how far a run got: "N epochs" when finished, "N of M epochs" when shipped before its end', async () => {
    const { aboutEntry } = await import('./pretrained');
    const entry = manifest.models['resnet20-full'];
    expect(aboutEntry({ ...entry, epochs: 40, recipe: { ...entry.recipe, epochs: 40 }, testAccuracy: 0.9107, testImages: 10000 })).toBe(
      'trained on the full CIFAR-10, 40 epochs, 91.1 % on 10,000 test images',
    );
    expect(aboutEntry({ ...entry, epochs: 8, recipe: { ...entry.recipe, epochs: 100 }, testAccuracy: 0.7502, testImages: 10000 })).toBe(
      'trained on the full CIFAR-10, 8 of 100 epochs, 75.0 % on 10,000 test images',
    );
    expect(aboutEntry({ ...manifest.models.simplecnn })).toBeUndefined();
  });
});
