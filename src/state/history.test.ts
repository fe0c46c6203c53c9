import { describe, expect, it } from 'vitest';
import { type HistoryRow, historyToCsv } from './history';

const row: HistoryRow = {
  run: 1, method: 'l1', mode: 'remove', conv1: 50, fc1: 0, seed: 42, keptFilters: 32, totalParams: 328_586,
  nonzeroParams: 328_586, macs: 1_212_416, nonzeroMacs: 1_212_416, sizeBytes: 1_314_344, baselineAcc: 0.41,
  prunedAcc: 0.3, finetunedAcc: 0.4, ftEpochs: 1,
};

describe('historyToCsv', () => {
  it('writes a header and one line per run', () => {
    const csv = historyToCsv([row, { ...row, run: 2, method: 'random' }]);
    const lines = csv.trimEnd().split('\r\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toBe('run,method,mode,conv1,fc1,seed,keptFilters,totalParams,nonzeroParams,macs,nonzeroMacs,sizeBytes,baselineAcc,prunedAcc,finetunedAcc,ftEpochs');
    expect(lines[1]).toBe('1,l1,remove,50,0,42,32,328586,328586,1212416,1212416,1314344,0.41,0.3,0.4,1');
    expect(lines[2].startsWith('2,random,')).toBe(true);
  });
});
