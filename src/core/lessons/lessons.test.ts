import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { specFor } from '../model/zoo';
import { previewCosts } from '../pruning/costs';
import type { PruneSettings } from '../pruning/settings';
import { LESSONS, lessonById, stepOf } from './index';
import { type Observations, formatMeasure, measure } from './measure';
import { choicesProblem, judge } from './predict';
import type { ModelId } from '../model/spec';
import type { Predict } from './types';

const UI = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../ui');

/** Every data-testid the page's components write: literal ones, and template ones as patterns (`slider-${k}` → /^slider-.+$/). */
function testIdsInUi(): { literal: Set<string>; patterns: RegExp[] } {
  const literal = new Set<string>();
  const patterns: RegExp[] = [];
  for (const f of readdirSync(UI, { recursive: true, encoding: 'utf8' }).filter((n) => n.endsWith('.tsx') && !n.endsWith('.test.tsx'))) {
    const src = readFileSync(path.join(UI, f), 'utf8');
    for (const m of src.matchAll(/data-testid="([^"]+)"/g)) literal.add(m[1]);
    for (const m of src.matchAll(/data-testid=\{`([^`]+)`\}/g)) {
      // A template that starts with its placeholder (`${name}-${value}`) would match anything: not counted.
      if (m[1].startsWith('${')) continue;
      const re = m[1].split(/\$\{[^}]*\}/).map((part) => part.replace(/[.*+?^$()|[\]\\]/g, '\\$&')).join('.+');
      patterns.push(new RegExp(`^${re}$`));
    }
  }
  return { literal, patterns };
}

function observe(model: ModelId, s: Partial<PruneSettings>, extra: Partial<Observations> = {}): Observations {
  const costs = previewCosts(specFor(model), { method: 'l1', mode: 'mask', amounts: {}, seed: 42, ...s });
  return { model, costs, baselineAccuracy: null, prunedAccuracy: null, finetunedAccuracy: null, schedule: null, ...extra };
}

describe('lesson data', () => {
  const steps = LESSONS.flatMap((l) => l.steps.map((s, i) => ({ lesson: l, step: s, n: i + 1 })));

  it('has the two lessons, unique ids, and steps found by their URL number', () => {
    expect(LESSONS.map((l) => l.id)).toEqual(['article', 'structure']);
    for (const l of LESSONS) {
      expect(new Set(l.steps.map((s) => s.id)).size).toBe(l.steps.length);
      expect(stepOf(l, 1)).toBe(l.steps[0]);
      expect(stepOf(l, l.steps.length + 1)).toBeUndefined();
      expect(stepOf(l, 0)).toBeUndefined();
      expect(lessonById(l.id)).toBe(l);
    }
    expect(lessonById('nope')).toBeUndefined();
  });

  it('every prediction’s choices tile the line, so exactly one is right whatever the page measures', () => {
    for (const { step } of steps) if (step.predict) expect(choicesProblem(step.predict), `${step.id}`).toBeNull();
    // Most steps ask for a prediction (the ones that only set the scene may not).
    expect(steps.filter((s) => s.step.predict).length).toBeGreaterThanOrEqual(steps.length - 2);
  });

  it('every step’s target is a data-testid the page renders (grepped from src/ui)', () => {
    const { literal, patterns } = testIdsInUi();
    expect(literal.has('pruned-acc')).toBe(true); // the grep reads the components
    expect(patterns.some((re) => re.test('fig-macs')) && !patterns.some((re) => re.test('gotcha-printz'))).toBe(true);
    for (const { step } of steps) {
      if (!step.target) continue;
      const found = literal.has(step.target) || patterns.some((re) => re.test(step.target!));
      expect(found, `${step.id}: target ${step.target}`).toBe(true);
    }
  });
});

describe('choices', () => {
  const p: Predict = {
    question: 'q',
    measure: 'prunedAccuracy',
    choices: [
      { label: 'low', max: 0.2 },
      { label: 'mid', min: 0.2, max: 0.4 },
      { label: 'high', min: 0.4 },
    ],
  };

  it('judges the student’s choice on the measured value (half-open ranges)', () => {
    expect(judge(p, 1, 0.3)).toMatchObject({ answer: 1, correct: true });
    expect(judge(p, 1, 0.3).text).toBe('Right: the page measured 30.0 % test accuracy after pruning, before fine-tuning — “mid”.');
    expect(judge(p, 0, 0.4)).toMatchObject({ answer: 2, correct: false });
    expect(judge(p, 0, 0.4).text).toMatch(/^Not quite: the page measured 40\.0 % .* — “high”, not “low”\.$/);
    expect(judge(p, 2, 0.1999).answer).toBe(0);
    expect(() => judge(p, 0, Number.NaN)).toThrow(/cannot judge/);
  });

  it('reports choices that leave a gap, overlap or close an end', () => {
    expect(choicesProblem(p)).toBeNull();
    expect(choicesProblem({ ...p, choices: [{ label: 'a', max: 0.2 }, { label: 'b', min: 0.3 }] })).toMatch(/must meet/);
    expect(choicesProblem({ ...p, choices: [{ label: 'a', min: 0, max: 0.2 }, { label: 'b', min: 0.2 }] })).toMatch(/first choice/);
    expect(choicesProblem({ ...p, choices: [{ label: 'a', max: 0.2 }, { label: 'b', min: 0.2, max: 1 }] })).toMatch(/last choice/);
    expect(choicesProblem({ ...p, choices: [{ label: 'a' }] })).toMatch(/two choices/);
  });
});

describe('measures (from the page’s figures)', () => {
  it('the article’s step: no filter gone, the printed count unchanged, the true count lower', () => {
    const o = observe('simplecnn', { method: 'random', mode: 'global', amounts: { conv1: 0.2 } });
    expect(measure('params', o)).toBe(657_162);
    expect(measure('filtersGone', o)).toBe(0);
    expect(measure('printedDrop', o)).toBe(0);
    expect(measure('nonzeroKeptShare', o)).toBeCloseTo((657_162 - 346) / 657_162, 9); // round(0.2 × 1,728) = 346
    expect(measure('macsKeptShare', o)).toBe(1);
  });

  it('masks keep every MAC; removal drops filters and MACs', () => {
    const mask = observe('convnet3', { mode: 'mask', amounts: { conv2: 0.5 } });
    const removed = observe('convnet3', { mode: 'remove', amounts: { conv2: 0.5 } });
    expect(measure('macsKeptShare', mask)).toBe(1);
    expect(measure('filtersGone', mask)).toBe(0);
    expect(measure('filtersGone', removed)).toBe(16);
    expect(measure('macsKeptShare', removed)).toBeLessThan(0.9);
    expect(measure('convLayersShrunk', removed)).toBe(2); // conv2's filters, conv3's inputs
  });

  it('ResNet-20: a residual stream takes every conv writing or reading it; a block’s inner channels two', () => {
    const stream = observe('resnet20', { mode: 'remove', amounts: { stream2: 0.5 } });
    const inner = observe('resnet20', { mode: 'remove', amounts: { 'inner2.1': 0.5 } });
    // Writers: 3 blocks' second convs + the 1×1 shortcut; readers: blocks 2.2, 2.3's first convs, 3.1's first conv and shortcut.
    expect(measure('convLayersShrunk', stream)).toBe(8);
    expect(measure('convLayersShrunk', inner)).toBe(2);
  });

  it('accuracies and the fine-tuning gain come from the evaluations, null until measured', () => {
    const o = observe('simplecnn', {}, { baselineAccuracy: 0.479, prunedAccuracy: 0.3 });
    expect(measure('baselineAccuracy', o)).toBe(0.479);
    expect(measure('finetuneGain', o)).toBeNull();
    expect(measure('finetuneGain', { ...o, finetunedAccuracy: 0.35 })).toBeCloseTo(0.05, 12);
    expect(measure('params', { ...o, costs: null })).toBeNull();
    expect(measure('prunedAccuracy', { ...o, prunedAccuracy: null })).toBeNull();
  });

  it('the first step of a schedule: AGP cuts 1 − (1 − 1/3)³ of the target, iterative a third', () => {
    const o = observe('convnet3', {});
    expect(measure('firstStepShare', o)).toBeNull();
    expect(measure('firstStepShare', { ...o, schedule: { schedule: { kind: 'agp', steps: 3 }, target: 0.75 } })).toBeCloseTo(1 - (2 / 3) ** 3, 12);
    const third = measure('firstStepShare', { ...o, schedule: { schedule: { kind: 'iterative', steps: 3 }, target: 0.75 } })!;
    const agp = lessonById('structure')!.steps.find((s) => s.id === 'agp')!.predict!;
    expect(agp.choices[judge(agp, 0, third).answer].label).toBe('a third (equal steps)');
  });

  it('formats each kind of figure', () => {
    expect(formatMeasure('params', 657162)).toBe('657,162');
    expect(formatMeasure('prunedAccuracy', 0.4125)).toBe('41.3 %');
    expect(formatMeasure('finetuneGain', -0.012)).toBe('−1.2 points');
    expect(formatMeasure('finetuneGain', 0.05)).toBe('+5.0 points');
  });
});
