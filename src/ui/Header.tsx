import { parameterCount } from '../core/model/spec';
import { specFor } from '../core/model/zoo';
import type { BackendChoice } from '../state/urlState';
import { int } from '../state/vocabulary';
import { Part } from './Part';
import { ShareBar } from './ShareBar';
import { useActions, useStore } from './context';

/** WebGPU exists in this browser (secure context, turned on): the switcher offers it. */
const webgpuInBrowser = typeof navigator !== 'undefined' && 'gpu' in navigator;

export function Header() {
  const actions = useActions();
  const backend = useStore((s) => s.backend);
  const engineError = useStore((s) => s.engineError);
  const choice = useStore((s) => s.settings.backend);
  const spec = specFor(useStore((s) => s.settings.model));
  const persistence = useStore((s) => s.persistence);
  const saving = useStore((s) => s.saving);
  return (
    <header className="top">
      <div>
        <h1>Pruning Playground</h1>
        <p className="tagline">
          Train the {spec.label} (<span data-testid="param-count">{int(parameterCount(spec))}</span> parameters) on CIFAR-10 in
          your browser, then prune it — by masks, as <code>torch.nn.utils.prune</code> does, or by really removing filters.
          <span className="muted small" data-testid="persistence">
            {' '}
            {persistence === 'on' ? 'Your work is saved in this browser.' : persistence === 'off' ? 'Not saving in this browser.' : ''}
          </span>
          {persistence === 'on' && saving !== 'off' ? (
            <span className="muted small save-status" data-testid="save-status" data-status={saving} aria-live="polite">
              {' '}
              {saving === 'saving' ? 'saving…' : 'saved'}
            </span>
          ) : null}
        </p>
      </div>
      <Part id="backend">
        <div className="backend" data-testid="backend-box">
          <label>
            Backend{' '}
            <select
              value={choice}
              onChange={(e) => actions.setSetting('backend', e.target.value as BackendChoice)}
              aria-label="TensorFlow.js backend"
            >
              <option value="auto">auto (fastest)</option>
              <option value="webgl">webgl</option>
              <option value="wasm">wasm</option>
              <option value="cpu">cpu</option>
              {webgpuInBrowser || choice === 'webgpu' ? <option value="webgpu">webgpu</option> : null}
            </select>
          </label>
          <div>
            running on <strong data-testid="backend">{backend ? backend.backend : engineError ? 'failed' : '…'}</strong>
            {backend?.threads ? ` · ${backend.threads} thread${backend.threads > 1 ? 's' : ''}` : ''}
            {backend?.simd ? ' · SIMD' : ''}
            {backend?.kernels ? (
              <>
                {' · '}
                <span data-testid="kernels" title={backend.kernels.notice ?? `${backend.kernels.selfCheck ? `self-check on ${backend.kernels.selfCheck.backend}: largest difference ${backend.kernels.selfCheck.maxDiff.toExponential(1)}. ` : ''}Installed: ${backend.kernels.installed.join(', ')}`}>
                  {backend.kernels.active === 'custom' ? 'custom kernels' : 'stock tfjs kernels'}
                </span>
              </>
            ) : null}
          </div>
          {backend?.auto && choice === 'auto' ? (
            <div className="small" data-testid="backend-auto">
              <span data-testid="backend-figures" data-source={backend.auto.source} data-measuring={backend.auto.measuring}>
                {backend.auto.measuring
                  ? 'measuring the backends…'
                  : backend.auto.figures
                    ? `${backend.auto.source === 'cached' ? 'measured before: ' : 'measured: '}${backend.auto.figures} (training img/s)`
                    : backend.auto.error
                      ? `not measured: ${backend.auto.error}`
                      : 'not measured yet'}
              </span>{' '}
              <button type="button" className="link" data-testid="remeasure" disabled={backend.auto.measuring} onClick={() => void actions.remeasureBackend()} title="Time a few training steps on every backend this browser has (software GPUs too) and switch to the fastest">
                re-measure
              </button>
            </div>
          ) : null}
          {backend && (
            // Folded: the reason is long (the GPU's name, isolation, threads) and the header must stay short.
            <details className="small backend-why">
              <summary>why this backend</summary>
              <div className="muted" data-testid="backend-reason">
                {backend.renderer ? <>GPU: <span data-testid="renderer">{backend.renderer}</span>. </> : null}
                {backend.reason}
                {backend.kernels?.notice ? <span data-testid="kernels-reason"> Kernels: {backend.kernels.notice}.</span> : null}
              </div>
            </details>
          )}
          {engineError && <div className="error small">{engineError}</div>}
        </div>
      </Part>
      <Part id="share">
        <ShareBar />
      </Part>
    </header>
  );
}
