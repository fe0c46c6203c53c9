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

/**
 * The page: a compact header, the views as tabs (layout.ts: view=, controls=, presenter=), notices
 * above whichever view is open. The prune view holds the prune loop (the network drawn beside the
 * sliders, PrunePanel) and, below it, the runs it made.
 */
export function App() {
  usePresenterClass();
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
        Data: CIFAR-10 (Krizhevsky, <i>Learning Multiple Layers of Features from Tiny Images</i>, 2009), a balanced
        subset of 5,000 training and 1,000 test images. Everything runs in this tab; your files are never uploaded.
      </footer>
    </>
  );
}
