/**
 * The pretrained baselines shipped in public/models/ (made by `npm run pretrain`): a manifest saying
 * how each was trained and what it scored, and its weights as safetensors in PyTorch's layout.
 */
import type { ModelId } from '../core/model/spec';
import { loadWeightsFile } from '../core/io/torchLayout';
import type { Pretrained } from './types';

export const MANIFEST_URL = 'models/manifest.json';

export interface ManifestEntry {
  model: ModelId;
  file: string;
  /** SHA-256 of the weights file, hex. */
  sha256: string;
  /** recipe.epochs: the epochs planned (a full-data run shipped before it ends has `epochs` of them). */
  recipe: { optimizer: string; learningRate: number; batchSize: number; epochs: number; seed: number; train: string };
  /** 'cifar10-full': trained on all 50,000 training images (scripts/pretrain_full.py). */
  dataset?: string;
  /** Test images testAccuracy was measured on (full-data runs: 10,000). */
  testImages?: number;
  seed: number;
  epochs: number;
  backend: string;
  /** Accuracy on test_1000 measured by the pretrain script, 0–1. */
  testAccuracy: number;
  createdAt: string;
}

export interface Manifest {
  version: 1;
  models: Partial<Record<ModelId, ManifestEntry>>;
}

let manifest: Promise<Manifest | null> | null = null;

async function fetchManifest(): Promise<Manifest | null> {
  const res = await fetch(MANIFEST_URL);
  // No manifest (a build without pretrained models): 404, or a static server's index.html fallback.
  if (res.status === 404 || (res.ok && !/json/.test(res.headers.get('content-type') ?? ''))) return null;
  if (!res.ok) throw new Error(`${MANIFEST_URL}: HTTP ${res.status}`);
  return (await res.json()) as Manifest;
}

async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

/** `full`: the baseline trained on the full CIFAR-10 (`<model>-full`) when one ships, else the subset's. */
export async function loadPretrained(model: ModelId, full = false): Promise<Pretrained | null> {
  manifest ??= fetchManifest().catch((e) => {
    manifest = null; // a network error may pass: try again next time
    throw e;
  });
  // A model shipped only as its full-data run (ResNet-20: "resnet20-full") uses that one.
  const models = (await manifest)?.models as Record<string, ManifestEntry> | undefined;
  const entry = full ? (models?.[`${model}-full`] ?? models?.[model]) : (models?.[model] ?? models?.[`${model}-full`]);
  if (!entry) return null;
  const res = await fetch(`models/${entry.file}`);
  if (!res.ok) throw new Error(`models/${entry.file}: HTTP ${res.status}`);
  const bytes = new Uint8Array(await res.arrayBuffer());
  // crypto.subtle exists only in secure contexts (https, localhost); elsewhere the check is skipped.
  if (typeof crypto !== 'undefined' && crypto.subtle) {
    const hash = await sha256Hex(bytes);
    if (hash !== entry.sha256) throw new Error(`models/${entry.file} does not match its manifest (SHA-256 ${hash.slice(0, 12)}…, expected ${entry.sha256.slice(0, 12)}…)`);
  }
  const { weights } = loadWeightsFile(bytes, model);
  return { weights, seed: entry.seed, epochs: entry.epochs, testAccuracy: entry.testAccuracy, backend: entry.backend, about: aboutEntry(entry) };
}

/** What the page says about a full-data baseline, from its manifest entry (re-exported checkpoints update it). */
export function aboutEntry(e: ManifestEntry): string | undefined {
  if (e.dataset !== 'cifar10-full') return undefined;
  const images = e.testImages ? `${e.testImages.toLocaleString('en-US')} test images` : 'the test images';
  const epochs = e.epochs >= e.recipe.epochs ? `${e.epochs} epochs` : `${e.epochs} of ${e.recipe.epochs} epochs`;
  return `trained on the full CIFAR-10, ${epochs}, ${(e.testAccuracy * 100).toFixed(1)} % on ${images}`;
}
