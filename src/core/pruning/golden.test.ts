/**
 * Golden cases produced by PyTorch's own torch.nn.utils.prune (see golden/README.md). Weights are in
 * PyTorch layout; every structured/unstructured case is checked on that layout AND after conversion to
 * tfjs layout (the one the app uses). Extra case files: TORCH_GOLDEN_DIR=<folder> (every *.json in it).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { initialWeights } from '../model/init';
import { simpleCnn } from '../model/zoo';
import { type Amount, PruneAmountError, count, fraction, pruneCount } from './amount';
import { applyMask, globalUnstructuredMasks, l1UnstructuredMask, lnStructuredMask } from './masks';
import { countNonzero } from './costs';
import { tfToTorch, torchDimToTf, torchShapeToTf, torchToTf } from './layout';
import { prune } from './pruner';

/** One case, as golden/README.md describes (PyTorch's names). Typed: a misspelt field is a type error, not a check that silently never runs. */
type LnStructured = { n: 1 | 2; dim: number; shape: number[]; weight: number[]; kept: number | number[]; nonzero_after?: number };
type GoldenCase =
  | { op: 'count'; amount: number; amount_is_int?: boolean; size: number; expected: number | 'error' }
  | ({ op: 'ln_structured'; amount: number } & LnStructured)
  | ({ op: 'ln_structured_iterative'; amounts: number[] } & LnStructured)
  | { op: 'l1_unstructured'; amount: number; shape: number[]; weight: number[]; mask: number[] }
  | { op: 'global_l1_unstructured'; amount: number; tensors: { shape: number[]; weight: number[] }[]; masks: number[][] }
  | {
      op: 'simplecnn_article_count';
      amount: number;
      total_params: number;
      article_prints: number;
      true_nonzero: number;
      conv1_weights_zeroed: number;
    };

const here = fileURLToPath(new URL('.', import.meta.url));
const files: { name: string; cases: GoldenCase[] }[] = [load(join(here, 'golden', 'cases.json'))];
const extraDir = process.env.TORCH_GOLDEN_DIR;
if (extraDir) {
  for (const f of readdirSync(extraDir).filter((f) => f.endsWith('.json')).sort()) files.push(load(join(extraDir, f)));
}

function load(path: string): { name: string; cases: GoldenCase[] } {
  const json = JSON.parse(readFileSync(path, 'utf8'));
  if (!Array.isArray(json.cases)) throw new Error(`${path}: no "cases" array`);
  return { name: path, cases: json.cases };
}

let ran = 0;
let passed = 0;
afterAll(() => console.log(`torch golden: ${ran} cases ran from ${files.length} file(s), ${passed} passed, ${ran - passed} failed`));

for (const file of files) {
  describe(`golden ${file.name}`, () => {
    file.cases.forEach((c, i) => {
      it(`case #${i} ${c.op}`, () => {
        ran++;
        check(c);
        passed++;
      });
    });
  });
}

function check(c: GoldenCase): void {
  switch (c.op) {
    case 'count': {
      const amount: Amount = c.amount_is_int === true ? count(c.amount) : fraction(c.amount);
      if (c.expected === 'error') expect(() => pruneCount(amount, c.size)).toThrow(PruneAmountError);
      else expect(pruneCount(amount, c.size)).toBe(c.expected);
      return;
    }
    case 'ln_structured':
    case 'ln_structured_iterative': {
      const amounts: number[] = c.op === 'ln_structured' ? [c.amount] : c.amounts;
      const run = (w: ArrayLike<number>, shape: number[], dim: number) => {
        let mask: Uint8Array | null = null;
        let kept: number[] = [];
        for (const a of amounts) ({ mask, kept } = lnStructuredMask(w, shape, dim, c.n, fraction(a), mask));
        return { mask: mask!, kept };
      };
      const torch = run(c.weight, c.shape, c.dim);
      const tf = run(torchToTf(Float32Array.from(c.weight), c.shape), torchShapeToTf(c.shape), torchDimToTf(c.shape.length as 2 | 4, c.dim));
      for (const r of [torch, tf]) {
        if (typeof c.kept === 'number') expect(r.kept.length).toBe(c.kept);
        else expect(r.kept).toEqual(c.kept);
      }
      expect(Array.from(tfToTorch(tf.mask, c.shape))).toEqual(Array.from(torch.mask));
      if (c.nonzero_after !== undefined) expect(countNonzero(applyMask(c.weight, torch.mask))).toBe(c.nonzero_after);
      return;
    }
    case 'l1_unstructured': {
      const torch = l1UnstructuredMask(c.weight, fraction(c.amount));
      expect(Array.from(torch)).toEqual(c.mask);
      const tf = l1UnstructuredMask(torchToTf(Float32Array.from(c.weight), c.shape), fraction(c.amount));
      expect(Array.from(tfToTorch(tf, c.shape))).toEqual(c.mask);
      return;
    }
    case 'global_l1_unstructured': {
      const tensors = c.tensors;
      const torch = globalUnstructuredMasks(tensors.map((t) => t.weight), fraction(c.amount), { kind: 'l1' });
      torch.forEach((m, t) => expect(Array.from(m), `tensor ${t}`).toEqual(c.masks[t]));
      const tfw = tensors.map((t) => torchToTf(Float32Array.from(t.weight), t.shape));
      const tf = globalUnstructuredMasks(tfw, fraction(c.amount), { kind: 'l1' });
      tf.forEach((m, t) => expect(Array.from(tfToTorch(m, tensors[t].shape)), `tensor ${t} (tfjs layout)`).toEqual(c.masks[t]));
      return;
    }
    case 'simplecnn_article_count': {
      // Random choices differ between frameworks; the counts must not. L1 too: same counts.
      for (const method of ['random', 'l1'] as const) {
        const r = prune(simpleCnn, initialWeights(simpleCnn, 11), { method, mode: 'global', amounts: { conv1: c.amount }, seed: 5 });
        expect(r.costs.params, method).toBe(c.total_params);
        expect(r.costs.articlePrints, method).toBe(c.article_prints);
        expect(r.costs.nonzeroParams, method).toBe(c.true_nonzero);
        expect(r.costs.layers.conv1.weights - r.costs.layers.conv1.nonzeroWeights, method).toBe(c.conv1_weights_zeroed);
      }
      return;
    }
    default:
      // A case file from TORCH_GOLDEN_DIR may hold an op this test does not know yet.
      throw new Error(`unknown golden op "${(c as { op: string }).op}"`);
  }
}
