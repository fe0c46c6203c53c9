import { Header } from './Header';
import { Notices } from './Notices';
import { DataPanel } from './DataPanel';
import { TrainPanel } from './TrainPanel';
import { PrunePanel } from './PrunePanel';
import { NetworkView } from './NetworkView';
import { FeatureMaps } from './FeatureMaps';
import { SpeedLab } from './SpeedLab';
import { HistoryPanel } from './HistoryPanel';
import { ExperimentsPanel } from './ExperimentsPanel';
import { GotchaPanel } from './GotchaPanel';
import { WorkPanel } from './WorkPanel';
import { LessonPanel } from './LessonPanel';

export function App() {
  return (
    <>
      <Header />
      <main>
        <Notices />
        <LessonPanel />
        <DataPanel />
        <TrainPanel />
        <PrunePanel />
        <NetworkView />
        <FeatureMaps />
        <SpeedLab />
        <HistoryPanel />
        <ExperimentsPanel />
        <WorkPanel />
        <GotchaPanel />
      </main>
      <footer>
        Data: CIFAR-10 (Krizhevsky, <i>Learning Multiple Layers of Features from Tiny Images</i>, 2009), a balanced
        subset of 5,000 training and 1,000 test images. Everything runs in this tab; your files are never uploaded.
      </footer>
    </>
  );
}
