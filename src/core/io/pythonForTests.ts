/**
 * Test helper (Node only): finds a Python that imports torch and numpy, so tests can check files
 * against PyTorch itself. Tests that need it skip, printing why, when there is none.
 * Override with TORCH_PYTHON=/path/to/python.
 */
import { spawnSync } from 'node:child_process';
import { it } from 'vitest';

export interface PythonInfo {
  /** Interpreter with torch + numpy, or null. */
  torch: string | null;
  /** Any python3 (for py_compile), or null. */
  any: string | null;
  /** Why torch is unavailable (for skip messages). */
  reason: string;
}

let cached: PythonInfo | null = null;

export function findPython(): PythonInfo {
  if (cached) return cached;
  const candidates = [process.env.TORCH_PYTHON, '/usr/bin/python3', 'python3'].filter((c): c is string => !!c);
  let any: string | null = null;
  let reason = 'no python3 found';
  for (const exe of candidates) {
    const r = spawnSync(exe, ['-c', 'import torch, numpy; print(torch.__version__)'], { encoding: 'utf8', timeout: 120_000 });
    if (r.error) continue;
    any ??= exe;
    if (r.status === 0) return (cached = { torch: exe, any: exe, reason: '' });
    reason = `${exe} cannot import torch and numpy: ${(r.stderr || '').trim().split('\n').pop()}`;
  }
  return (cached = { torch: null, any, reason });
}

/** Runs python with args; throws with its stderr when it fails. */
export function runPython(exe: string, args: string[], opts: { cwd?: string; input?: string; timeoutMs?: number } = {}): string {
  const r = spawnSync(exe, args, { encoding: 'utf8', cwd: opts.cwd, input: opts.input, timeout: opts.timeoutMs ?? 300_000, maxBuffer: 64 << 20 });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`${exe} ${args.join(' ')} exited ${r.status}:\n${r.stderr}`);
  return r.stdout;
}

/**
 * Call inside a `describe`: returns the torch interpreter, or registers what happens without one and
 * returns null (the caller then returns). Locally the check is reported as skipped with the reason
 * printed; under CI (`CI=true`, where `.ci/run` installs python3-torch) a missing torch is a failure,
 * so the claims these tests prove ("the exported script reproduces the page") are checked at every landing.
 */
export function torchOrSkip(
  what: string,
  env: NodeJS.ProcessEnv = process.env,
  info: PythonInfo = findPython(),
  register: { it: (name: string, fn: () => void) => void; skip: (name: string, fn: () => void) => void } = { it, skip: it.skip },
): string | null {
  if (info.torch) return info.torch;
  if (env.CI === 'true') {
    register.it(`${what} (torch required under CI)`, () => {
      throw new Error(`CI=true but PyTorch is unavailable (${info.reason}); .ci/run installs Debian's python3-torch`);
    });
  } else {
    console.log(`skipping ${what}: ${info.reason}`);
    // PyTorch is optional locally (Debian python3-torch, never an npm dependency): the check is
    // reported as skipped, with the reason printed above, rather than passing silently.
    register.skip(`${what} (torch unavailable)`, () => {});
  }
  return null;
}
