import { describe, expect, it, vi } from 'vitest';
import { type PythonInfo, torchOrSkip } from './pythonForTests';

const none: PythonInfo = { torch: null, any: '/usr/bin/python3', reason: 'no module named torch' };

function recorder() {
  const calls: { kind: 'it' | 'skip'; name: string; fn: () => void }[] = [];
  return { calls, register: { it: (name: string, fn: () => void) => calls.push({ kind: 'it', name, fn }), skip: (name: string, fn: () => void) => calls.push({ kind: 'skip', name, fn }) } };
}

describe('torchOrSkip', () => {
  it('returns the interpreter and registers nothing when torch is there', () => {
    const r = recorder();
    expect(torchOrSkip('x', { CI: 'true' }, { torch: '/usr/bin/python3', any: '/usr/bin/python3', reason: '' }, r.register)).toBe('/usr/bin/python3');
    expect(r.calls).toEqual([]);
  });

  it('skips with the reason locally', () => {
    const r = recorder();
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    expect(torchOrSkip('the fidelity run', {}, none, r.register)).toBeNull();
    expect(r.calls.map((c) => [c.kind, c.name])).toEqual([['skip', 'the fidelity run (torch unavailable)']]);
    expect(log).toHaveBeenCalledWith('skipping the fidelity run: no module named torch');
    log.mockRestore();
  });

  it('fails under CI=true: a skipped PyTorch check must not land', () => {
    const r = recorder();
    expect(torchOrSkip('the fidelity run', { CI: 'true' }, none, r.register)).toBeNull();
    expect(r.calls).toHaveLength(1);
    expect(r.calls[0].kind).toBe('it');
    expect(r.calls[0].fn).toThrow(/CI=true but PyTorch is unavailable \(no module named torch\)/);
  });
});
