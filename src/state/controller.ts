/**
 * What the page does, as plain functions over the store: the slices (slices/: data, baseline,
 * pruning, files) around one shared context (shared.ts: the injected world, the job guard and the one
 * baseline transition), with the engine's training events as a pure reducer (engineEvents.ts). The
 * engine link, timers, fetch, URL writer and confirmation dialog are passed in, so all of it is
 * unit-tested with fakes (controller.test.ts). Components call these actions; they never talk to the engine.
 */
import { type ControllerDeps, createShared } from './shared';
import { baselineSlice } from './slices/baseline';
import { dataSlice } from './slices/data';
import { filesSlice } from './slices/files';
import { layoutSlice } from './slices/layout';
import { lessonsSlice } from './slices/lessons';
import { pruningSlice } from './slices/pruning';
import { scheduleSlice } from './slices/schedule';

export type { ControllerDeps } from './shared';
export { currentCosts, message, pruneSettingsOf, trainConfigOf } from './shared';
export { DATA_FILES } from './slices/data';
export type { Pretrained } from './types';
export { describeOrigin, epochsText, fmtEpochs } from './vocabulary';

export type Controller = ReturnType<typeof createController>;

export function createController(deps: ControllerDeps) {
  const ctx = createShared(deps);
  const layout = layoutSlice(ctx);
  const data = dataSlice(ctx);
  const baseline = baselineSlice(ctx, data);
  const pruning = pruningSlice(ctx);
  const files = filesSlice(ctx, baseline);
  const schedule = scheduleSlice(ctx);
  const lessons = lessonsSlice(ctx);
  ctx.cross = {
    evaluateBaseline: baseline.evaluateBaseline,
    schedulePreview: pruning.schedulePreview,
    switchModel: baseline.switchModel,
    switchBackend: baseline.switchBackend,
    defaultBaseline: baseline.defaultBaseline,
    scheduledFineTune: schedule.scheduledFineTune,
    addControl: schedule.addControl,
  };

  return {
    start: baseline.start,
    remeasureBackend: baseline.remeasureBackend,
    exportPytorch: files.exportPytorch,
    saveExperiment: files.saveExperiment,
    openExperiment: files.openExperiment,
    notify: ctx.notify,
    dismissNotice: (id: number) => ctx.set((s) => ({ notices: s.notices.filter((n) => n.id !== id) })),
    retryData: data.retryData,
    loadUserFiles: data.loadUserFiles,
    pickData: data.pickData,
    retryFullData: data.loadFullData,
    cancelFullData: () => data.cancelFullData(),
    setSetting: pruning.setSetting,
    setAmount: pruning.setAmount,
    setAmounts: pruning.setAmounts,
    toggleFilter: pruning.toggleFilter,
    trainBaseline: baseline.trainBaseline,
    cancelJob: baseline.cancelJob,
    newBaseline: baseline.newBaseline,
    usePretrainedBaseline: baseline.usePretrainedBaseline,
    schedulePreview: pruning.schedulePreview,
    fineTune: pruning.fineTune,
    resetPruning: pruning.resetPruning,
    clearHistory: pruning.clearHistory,
    forgetSavedWork: files.forgetSavedWork,
    tensorCount: files.tensorCount,
    readBaseline: files.readBaseline,
    engine: ctx.engine,
    /** Layout (issue 23): a tab's view (a history entry), a lesson's layout (replaces it), back/forward. */
    showView: layout.showView,
    setLayout: layout.setLayout,
    layoutFromUrl: layout.layoutFromUrl,
    /** Lessons (issue 23): a step's settings and view; leaving gives back what the lesson hid. */
    goToStep: lessons.goToStep,
    leaveLesson: lessons.leaveLesson,
  };
}
