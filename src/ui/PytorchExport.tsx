import { useState } from 'react';
import { scriptRunsSchedule } from '../core/export/pytorchScript';
import type { HistoryRow } from '../state/history';
import { download } from './download';
import { useActions, useAppStore, useStore } from './context';

/** Exports a setting (or a history run) and downloads the zip; the script then shows below the button. */
export function useExportAndDownload(): (row?: HistoryRow) => Promise<void> {
  const actions = useActions();
  const appStore = useAppStore();
  return async (row) => {
    if (await actions.exportPytorch(row)) {
      const e = appStore.getState().pytorchExport!;
      download(e.name, 'application/zip', e.zip);
    }
  };
}

/** "Export to PyTorch": a zip with baseline.safetensors, prune_run.py and README.txt, and the script shown here. */
export function PytorchExport() {
  const exported = useStore((s) => s.pytorchExport);
  const busy = useStore((s) => s.job !== null);
  const ready = useStore((s) => s.preview.status === 'ready');
  const exportAndDownload = useExportAndDownload();
  // A scheduled setting the script cannot run step by step (filters picked by hand are pruned at once).
  const oneShotOnly = useStore((s) => s.settings.schedule !== 'oneshot' && !scriptRunsSchedule(s.settings.method, s.settings.mode));
  const [copied, setCopied] = useState(false);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(exported!.script);
      setCopied(true);
    } catch {
      setCopied(false);
    }
  };
  return (
    <div className="pytorch-export">
      <div className="actions">
        <button onClick={() => void exportAndDownload()} disabled={busy || !ready} data-testid="export-pytorch" title="A zip with the baseline's weights, a plain PyTorch script that applies this pruning, and how to run it">
          Export to PyTorch
        </button>
        <span className="muted small">
          A runnable <code>prune_run.py</code> that rebuilds this network in PyTorch, applies the same pruning and prints the same figures.
          {oneShotOnly && <strong data-testid="export-oneshot-note"> It prunes to the targets in one shot: the script does not run schedules for filters picked by hand.</strong>}
        </span>
      </div>
      {exported && (
        <details open data-testid="pytorch-export">
          <summary>
            <code>{exported.name}</code> ({exported.label}): run <code>python prune_run.py --data DIR</code> with CIFAR-10 binary batches in DIR
          </summary>
          {exported.problem && <p className="warn">{exported.problem}</p>}
          <div className="actions">
            <button onClick={() => void copy()} data-testid="copy-script">
              {copied ? 'Copied' : 'Copy script'}
            </button>
            <button onClick={() => download(exported.name, 'application/zip', exported.zip)}>Download zip again</button>
          </div>
          <pre className="script">
            <code data-testid="pytorch-script">{exported.script}</code>
          </pre>
        </details>
      )}
    </div>
  );
}
