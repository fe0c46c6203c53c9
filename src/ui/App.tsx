import { Header } from './Header';
import { Notices } from './Notices';
import { DataPanel } from './DataPanel';
import { TrainPanel } from './TrainPanel';
import { PrunePanel } from './PrunePanel';
import { FeatureMaps } from './FeatureMaps';
import { SpeedLab } from './SpeedLab';
import { HistoryPanel } from './HistoryPanel';
import { ExperimentsPanel } from './ExperimentsPanel';
import { GotchaPanel } from './GotchaPanel';
import { WorkPanel } from './WorkPanel';
import { Part } from './Part';
import { Views, usePresenterClass } from './Views';
import { LessonPanel } from './LessonPanel';
import { useStore } from './context';
import { int } from '../state/vocabulary';
import { type DataStatus } from '../state/types';

/** The footer's data line: the images in use (the subset, the full set, or the user's own files) once loaded. */
function footerData(train: DataStatus, test: DataStatus): string {
  if (train.status !== 'ready' || test.status !== 'ready') return 'loading the images';
  const what = train.count >= 50_000 ? 'all' : 'a subset of';
  return `${what} ${int(train.count)} training and ${int(test.count)} test images in use`;
}

/**
 * The page: a compact header, the views as tabs (layout.ts: view=, controls=, presenter=), notices
 * above whichever view is open. The prune view holds the prune loop (the network drawn beside the
 * sliders, PrunePanel) and, below it, the runs it made.
 */
export function App() {
  usePresenterClass();
  const dataInUse = useStore((s) => footerData(s.data.train, s.data.test));
  return (
    <>
      <Header />
      <main>
        <Views
          views={{
            prune: (
              <>
                <PrunePanel />
                <HistoryPanel />
              </>
            ),
            data: (
              <>
                <DataPanel />
                <Part id="train">
                  <TrainPanel />
                </Part>
              </>
            ),
            experiments: <ExperimentsPanel />,
            inspect: (
              <>
                <FeatureMaps />
                <SpeedLab />
              </>
            ),
            work: <WorkPanel />,
            article: <GotchaPanel />,
          }}
        >
          <Notices />
        </Views>
        <LessonPanel />
      </main>
      <footer>
        Data: CIFAR-10 (Krizhevsky, <i>Learning Multiple Layers of Features from Tiny Images</i>, 2009),{' '}
        <span data-testid="footer-data">
          {dataInUse}
        </span>
        . Everything runs in this tab; your files are never uploaded.
      </footer>
    </>
  );
}
