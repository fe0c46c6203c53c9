import { zipSync, strToU8 } from 'fflate';
import { describe, expect, it } from 'vitest';
import { convNet3 } from '../core/model/zoo';
import { randomWeights, sameBits } from '../core/pruning/testUtil';
import { type Experiment, ExperimentFileError, decodeExperiment, encodeExperiment } from './experimentFile';
import { DEFAULT_SETTINGS } from './urlState';

const experiment: Experiment = {
  settings: { ...DEFAULT_SETTINGS, model: 'convnet3', amounts: { conv1: 0, conv2: 50, conv3: 0, fc1: 0 }, mode: 'remove', method: 'bn' },
  origin: { kind: 'pretrained', model: 'convnet3', seed: 42, epochs: 10, trainedHere: 0 },
  weights: randomWeights(convNet3, 5),
  curve: [{ step: 0.064, loss: 2.3, trainAcc: 0.1 }, { step: 0.128, loss: 2.1, testAcc: 0.2 }],
  baselineEval: { accuracy: 0.52, loss: 1.4, perClass: Array(10).fill(0.52), count: 1000 },
  history: [{ run: 1 } as never],
};

describe('experiment files', () => {
  it('round-trips settings, baseline weights (bit for bit), curve, accuracy and history', () => {
    const bytes = encodeExperiment(experiment);
    const { experiment: back, notices } = decodeExperiment(bytes, 'class.zip');
    expect(notices).toEqual([]);
    expect(back.settings).toEqual(experiment.settings);
    expect(back.weights.channels).toEqual([16, 32, 64]);
    for (const [name, a] of Object.entries(experiment.weights.tensors)) expect(sameBits(back.weights.tensors[name], a)).toBe(true);
    expect(back.curve).toEqual(experiment.curve);
    expect(back.baselineEval).toEqual(experiment.baselineEval);
    expect(back.history).toEqual(experiment.history);
    expect(back.origin).toMatchObject({ kind: 'file', detail: 'class.zip', model: 'convnet3', epochs: 10 });
  });

  const problem = (bytes: Uint8Array) => {
    try {
      decodeExperiment(bytes, 'x.zip');
    } catch (e) {
      expect(e).toBeInstanceOf(ExperimentFileError);
      return (e as Error).message;
    }
    throw new Error('expected a failure');
  };

  it('names the file and the problem for empty, foreign, truncated, corrupted and too-large files', () => {
    const good = encodeExperiment(experiment);
    expect(problem(new Uint8Array())).toBe('x.zip: the file is empty. Nothing was changed.');
    expect(problem(strToU8('hello, not a zip'))).toMatch(/^x\.zip: this is not an experiment file/);
    expect(problem(good.slice(0, good.length >> 1))).toMatch(/^x\.zip: the zip is damaged or truncated/);
    const flipped = good.slice();
    for (let i = 200; i < 400; i++) flipped[i] ^= 0xff; // inside experiment.json's compressed data
    expect(problem(flipped)).toMatch(/^x\.zip: (the zip is damaged|experiment\.json is not valid JSON)/);
    expect(problem(zipSync({ 'readme.txt': strToU8('hi') }))).toMatch(/holds no experiment\.json/);
    expect(problem(zipSync({ 'experiment.json': strToU8('{"format":"other"}') }))).toMatch(/not a Pruning Playground experiment/);
    const big = new Uint8Array(100 * 1024 * 1024 + 1);
    big.set([0x50, 0x4b, 3, 4]);
    expect(problem(big)).toMatch(/more than an experiment can be/);
  });

  it('refuses weights of another model than the settings say', () => {
    const wrong = encodeExperiment({ ...experiment, settings: { ...experiment.settings, model: 'simplecnn', amounts: { conv1: 0, fc1: 0 } } });
    expect(problem(wrong)).toMatch(/baseline\.safetensors: this file holds a ConvNet-3/);
  });
});
