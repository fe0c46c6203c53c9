/**
 * Experiments (issue 12): a layer-sensitivity scan and a multi-seed method comparison, with the
 * statistics and exports that go with them. Framework-free: the compute (evaluating a network,
 * fine-tuning one) is injected, so the worker runs these with TensorFlow.js and the tests with fakes.
 *
 * Usage in the worker (sketch; `spec`, `baseline` (NetWeights), `test`, `trainingDevice`, `cfg`, `emit`
 * are the engine's; `evaluateOn` is core/train/trainer's `evaluate`):
 *
 *   import { type Evaluate, type FineTune, runSensitivity, runSweep } from '../core/experiments';
 *
 *   const evaluate: Evaluate = async (weights, _channels, signal) => {
 *     const net = new Net(spec, weights);                         // or keep one per `channels` and assignWeights
 *     try { return (await evaluateOn(net, test, () => { if (signal?.aborted) throw new Error('cancelled'); })).accuracy; }
 *     finally { net.dispose(); }
 *   };
 *   const fineTune: FineTune = async (pruned, { seed, epochs, subset, signal, onProgress }) => {
 *     const net = new Net(spec, pruned.weights);
 *     const masker = createMaskApplier(net, pruned.masks);       // pruned weights stay zero
 *     const opt = createOptimizer(cfg);
 *     const data = trainingDevice(subset);
 *     const perEpoch = Math.ceil(data.count / cfg.batchSize);
 *     try {
 *       await train(net, opt, data, { ...cfg, epochs, seed }, {
 *         afterStep: () => masker.apply(),
 *         onBatch: (b) => onProgress((b.epoch * perEpoch + b.batch + 1) / (epochs * perEpoch)),
 *         shouldStop: () => signal?.aborted ?? false,
 *         yieldEvery: () => new Promise((r) => setTimeout(r, 0)),
 *       });
 *       return { accuracy: (await evaluateOn(net, test)).accuracy };
 *     } finally { masker.dispose(); disposeOptimizer(opt); net.dispose(); }
 *   };
 *
 *   const controller = new AbortController();                    // 'cancel' message → controller.abort()
 *   const scan = await runSensitivity({ spec, baseline, mode: 'remove', evaluate, signal: controller.signal,
 *     onPoint: (p, done, total) => emit({ type: 'sensitivityPoint', p, done, total }) });
 *   const sweep = await runSweep({ spec, baseline, mode: 'mask', sparsities: [0.5, 0.9], seeds: [1, 2],
 *     epochs: 1, subset: 5000, evaluate, fineTune, signal: controller.signal,
 *     onProgress: (p) => emit({ type: 'sweepProgress', p }) });   // p.fraction, p.etaSeconds (formatEta)
 *
 *   // On the page (no tfjs needed): bands, the verdict table, exports.
 *   import { comparisonTable, sensitivityCsv, summarize, sweepCsv } from '../core/experiments';
 *   summarize(sweep.points);          // mean ± sd per (criterion, sparsity): the chart's lines and bands
 *   comparisonTable(sweep.points);    // per sparsity: leader, paired t-test vs the others, verdict text
 *   sweepCsv(sweep.points);           // 'sparsity,criterion,seed,mode,params,nonzeroParams,macs,accBefore,accAfter'
 *   sensitivityCsv(scan.points);      // 'layer,fraction,criterion,seed,mode,params,nonzeroParams,macs,accuracy'
 *
 * Both runners return everything finished so far with `cancelled: true` when the signal aborts, and
 * every result is plain JSON-safe data, so it can be posted from the worker and saved as it is.
 * `macs` is always nonzero MACs per image (the pruning saving in any mode); `denseMacs` is also kept.
 * (A result's NaN baseline accuracy — cancelled before it was measured — becomes null in JSON.)
 *
 * No tfjs is reachable from this file (pruning is imported from pruner.ts, not pruning/index.ts, which
 * re-exports the tfjs mask applier), so the page may import it for the statistics and exports.
 */
export {
  CRITERIA, CRITERION_LABELS, type Criterion, type Evaluate, type Pause, type PointCosts, type SkippedCriterion,
  defaultCriteria, hasBatchNorm, networkKey, seedRange, splitCriteria,
} from './common';
export { type EtaInput, estimateSecondsLeft, formatEta, secondsPerPoint } from './eta';
export {
  DEFAULT_RANDOM_SEEDS, SENSITIVITY_FRACTIONS, type SensitivityLayer, type SensitivityOptions, type SensitivityPlan, type SensitivityPoint,
  type SensitivityProgress, type SensitivityResult, type SeedFigures, planSensitivity, runSensitivity, sensitivityLayers, sensitivitySettings,
} from './sensitivity';
export {
  DEFAULT_SPARSITIES, DEFAULT_SWEEP_SEEDS, type FineTune, type FineTuneOptions, type SweepBaseline, type SweepControl, type SweepOptions, type SweepPlan,
  type SweepPoint, type SweepProgress, type SweepResult, type SweepRun, planSweep, runKey, runSweep, shrinkBenchRatios, sweepSettings,
} from './sweep';
export {
  type AccuracyField, type CompareOptions, type PairedComparison, type SparsityVerdict, type SweepSummary, comparisonTable, formatP, formatPoints,
  pairedComparison, summarize,
} from './stats';
export {
  type Cell, SENSITIVITY_COLUMNS, SWEEP_COLUMNS, type SensitivityRow, type SweepRow, csvField, exportFileName, parseCsv, sensitivityCsv,
  sensitivityJson, sensitivityRows, sweepCsv, sweepJson, sweepRows, toCsv,
} from './csv';
