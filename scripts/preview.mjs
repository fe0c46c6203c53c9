// The production build served by `vite preview`, for the scripts that drive a browser (bench, profiles,
// pretraining): vite's own script under this node (not npx), so killing the process stops the server.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Starts `vite preview` on `port`; `outDir` serves another build directory, `config` another vite config. */
export function spawnPreview({ port, outDir = null, config = null, stdio = 'ignore' }) {
  const args = ['preview', '--port', String(port), '--strictPort', ...(config ? ['--config', config] : []), ...(outDir ? ['--outDir', outDir] : [])];
  return spawn(process.execPath, [path.join(root, 'node_modules/vite/bin/vite.js'), ...args], { cwd: root, stdio });
}

/** Resolves once `url` answers with 2xx; throws after `ms`. */
export async function waitForServer(url, ms = 60_000) {
  const t0 = Date.now();
  while (Date.now() - t0 < ms) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      /* not yet */
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`vite preview did not answer on ${url}`);
}
