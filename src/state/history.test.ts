import { describe, expect, it } from 'vitest';
import { type HistoryRow, describeControl, describeFineTuning, historyToCsv, testImagesText } from './history';

const row: HistoryRow = {
  run: 1, model: 'simplecnn', method: 'l1', mode: 'remove', amounts: { conv1: 50, fc1: 0 }, manual: '', seed: 42,
  channels: [32], keptFilters: { conv1: [] }, totalParams: 328_586, nonzeroParams: 328_586, macs: 1_212_416,
  nonzeroMacs: 1_212_416, sizeBytes: 1_314_344, baselineAcc: 0.41, prunedAcc: 0.3, finetunedAcc: 0.4, ftEpochs: 1,
  ftPlanned: 1, cancelled: false,
};

describe('historyToCsv', () => {
  it('writes a header and one line per run', () => {
    const csv = historyToCsv([row, { ...row, run: 2, method: 'manual', manual: '3,17;conv2:1', model: 'convnet3', channels: [16, 31, 64] }]);
    const lines = csv.trimEnd().split('\r\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toBe('run,model,method,mode,amounts,manual,seed,channels,totalParams,nonzeroParams,macs,nonzeroMacs,sizeBytes,baselineAcc,prunedAcc,finetunedAcc,ftEpochs,cancelled,schedule,controlAcc,controlEpochs');
    // a row from before schedules and controls: one-shot, no control
    expect(lines[1]).toBe('1,simplecnn,l1,remove,conv1=50 fc1=0,,42,32,328586,328586,1212416,1212416,1314344,0.41,0.3,0.4,1,false,oneshot,,');
    expect(lines[2].split(',')).toHaveLength(21);
    expect(lines[2]).toContain(',3 17;conv2:1,');
    expect(lines[2]).toContain(',16 31 64,');
  });
});

describe('schedule and control columns', () => {
  it('writes a scheduled run and its control', () => {
    const r: HistoryRow = { ...row, ftEpochs: 3, ftPlanned: 3, schedule: { kind: 'agp', steps: 3, reports: [] }, control: { status: 'done', accuracy: 0.501, epochs: 3 } };
    expect(historyToCsv([r]).trimEnd().split('\r\n')[1].endsWith(',3,false,agp 3,0.501,3')).toBe(true);
    expect(describeControl(r)).toBe('control (unpruned, same 3 epochs) 50.1%');
    expect(describeControl({ control: { status: 'pending' } })).toBe('control: computing…');
    expect(describeControl({})).toBe('—');
  });
});

describe('describeFineTuning', () => {
  it('says how far a cancelled run got, never "0 epochs" for a model that trained', () => {
    expect(describeFineTuning({ ftEpochs: 2, ftPlanned: 2, cancelled: false })).toBe('2 epochs');
    expect(describeFineTuning({ ftEpochs: 1, ftPlanned: 1, cancelled: false })).toBe('1 epoch');
    expect(describeFineTuning({ ftEpochs: 0.4, ftPlanned: 5, cancelled: true })).toBe('cancelled after 0.4 of 5 epochs');
    expect(describeFineTuning({ ftEpochs: 3, ftPlanned: 5, cancelled: true })).toBe('cancelled after 3 of 5 epochs');
  });
});

describe('which test set a row is on (issue 21)', () => {
  it('says the test images: one count, the preview apart when it differs, a dash for rows from before', () => {
    expect(testImagesText(row)).toBe('—');
    expect(testImagesText({ ...row, testImages: { baseline: 1000, pruned: 1000, finetuned: 1000 } })).toBe('1,000');
    expect(testImagesText({ ...row, testImages: { baseline: 10000, pruned: 1000, finetuned: 10000 } })).toBe('10,000 (pruned: 1,000)');
    expect(testImagesText({ ...row, testImages: { baseline: 1000, pruned: 1000, finetuned: 10000 } })).toBe('baseline 1,000 · pruned 1,000 · fine-tuned 10,000');
  });
});
