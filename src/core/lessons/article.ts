/**
 * Lesson 1: the article this playground grew from, line by line — its SimpleCNN, its "filter
 * pruning" that is unstructured, its nonzero count that never drops, the L1/L2 criteria, the
 * evaluation, fine-tuning and the control it lacks. Every answer is judged on the page's measured figure.
 */
import type { Choice, Lesson } from './types';

/** Accuracy bands for SimpleCNN on the 1,000 test images (10 classes: chance is 10 %). */
const ACCURACY_BANDS: Choice[] = [
  { label: 'under 15 % — about chance', max: 0.15 },
  { label: '15–30 %', min: 0.15, max: 0.3 },
  { label: '30–45 %', min: 0.3, max: 0.45 },
  { label: '45 % or more', min: 0.45 },
];

export const articleLesson: Lesson = {
  id: 'article',
  title: 'The article, line by line',
  summary: 'Its SimpleCNN, its “filter pruning” that is unstructured, its count that never drops, L1/L2, evaluation, fine-tuning and the control.',
  // The article's steps need neither the experiments, the schedules nor the export: hidden, so the class keeps to them.
  controls: '-experiments,-schedule,-export',
  steps: [
    {
      id: 'network',
      title: 'The article’s network',
      text: 'The article’s SimpleCNN is one 3×3 conv layer, conv1 (3 → 64 channels, ReLU), then a flatten of its 64 maps of 32×32 and one linear layer, fc1, to the 10 classes. Look at the header: it counts the parameters.',
      state: { view: 'prune', model: 'simplecnn' },
      target: 'param-count',
      predict: {
        question: 'How many parameters does this network have?',
        measure: 'params',
        choices: [
          { label: 'fewer than 10,000', max: 10_000 },
          { label: '10,000 – 100,000', min: 10_000, max: 100_000 },
          { label: '100,000 – 1,000,000', min: 100_000, max: 1_000_000 },
          { label: 'more than a million', min: 1_000_000 },
        ],
        explain: 'Nearly all are fc1’s: 64 × 32 × 32 = 65,536 inputs × 10 outputs. conv1 holds only 64 × 3 × 3 × 3 weights and 64 biases — the layer the article prunes is the small one.',
      },
    },
    {
      id: 'evaluation',
      title: 'Evaluation: what the accuracy means',
      text: 'The page measures the baseline on the 1,000 shipped CIFAR-10 test images it never trains on. Ten balanced classes: guessing scores about 10 %.',
      state: { view: 'data', model: 'simplecnn' },
      target: 'baseline-acc',
      predict: {
        question: 'How accurate is the pretrained SimpleCNN on the test images?',
        measure: 'baselineAccuracy',
        choices: ACCURACY_BANDS,
        explain: 'Every figure after pruning is read against this one — and against chance.',
      },
    },
    {
      id: 'global-unstructured',
      title: 'The article’s “filter pruning”',
      text: 'The article calls prune.global_unstructured([(model.conv1, "weight")], pruning_method=prune.RandomUnstructured, amount=0.2) filter pruning. The sliders are now set to exactly that: mode Global unstructured, method Random, 20 %. Look at the network drawing and the filter counts.',
      state: { view: 'prune', model: 'simplecnn', mode: 'global', method: 'random', conv1: '20' },
      target: 'network-view',
      predict: {
        question: 'How many of conv1’s 64 filters are gone?',
        measure: 'filtersGone',
        choices: [
          { label: 'none', max: 1 },
          { label: '1 – 12', min: 1, max: 13 },
          { label: '13 (20 % of 64)', min: 13, max: 14 },
          { label: 'more than 13', min: 14 },
        ],
        explain: 'RandomUnstructured zeroes single weights scattered over all 64 filters: no filter is gone, the network keeps its shape, its MACs and its size. That is unstructured pruning, not filter pruning.',
      },
    },
    {
      id: 'count',
      title: 'The count that never drops',
      text: 'The article then prints parameters_to_vector(model.parameters()).nonzero().size(0) to show the pruning worked. Same settings as the step before.',
      state: { view: 'article', model: 'simplecnn', mode: 'global', method: 'random', conv1: '20' },
      target: 'gotcha-prints',
      predict: {
        question: 'Compared with before pruning, what does the article’s line print?',
        measure: 'printedDrop',
        choices: [
          { label: 'the same number as before', max: 1 },
          { label: 'fewer: the zeroed weights are gone from the count', min: 1 },
        ],
        explain: 'After pruning, model.parameters() holds conv1.weight_orig, the untouched original; the zeros live in conv1.weight = weight_orig × weight_mask, which is not a parameter. Count the nonzeros of the weights the model uses (the page’s “Nonzero parameters”) to see them.',
      },
    },
    {
      id: 'l1',
      title: 'Real filter pruning: L1 norm',
      text: 'prune.ln_structured(conv1, "weight", amount=0.5, n=1, dim=0) masks whole filters: the half of conv1’s 64 filters with the smallest L1 norm (sum of |w| over the filter). Mode Mask, method L1, 50 %. The page evaluates the pruned model at once, before any fine-tuning.',
      state: { view: 'prune', model: 'simplecnn', mode: 'mask', method: 'l1', conv1: '50' },
      target: 'pruned-acc',
      predict: {
        question: 'How much accuracy is left after masking half of conv1’s filters?',
        measure: 'prunedAccuracy',
        choices: ACCURACY_BANDS,
      },
    },
    {
      id: 'l2',
      title: 'L2 instead of L1',
      text: 'n=2 ranks the filters by their L2 norm (root of the sum of squares) instead. Same 50 % of conv1.',
      state: { view: 'prune', model: 'simplecnn', mode: 'mask', method: 'l2', conv1: '50' },
      target: 'pruned-acc',
      predict: {
        question: 'How much accuracy is left with L2?',
        measure: 'prunedAccuracy',
        choices: ACCURACY_BANDS,
        explain: 'Compare with L1’s figure one step back: both norms mostly agree on which filters are small, so they often prune nearly the same ones.',
      },
    },
    {
      id: 'random',
      title: 'The control for a criterion: random filters',
      text: 'A criterion earns its keep only if it beats chance. Method Random masks 32 of conv1’s filters picked by a seeded shuffle.',
      state: { view: 'prune', model: 'simplecnn', mode: 'mask', method: 'random', conv1: '50' },
      target: 'pruned-acc',
      predict: {
        question: 'How much accuracy is left with 32 random filters masked?',
        measure: 'prunedAccuracy',
        choices: ACCURACY_BANDS,
        explain: 'Change the seed to see how much random pruning varies; the Experiments view compares criteria over several seeds.',
      },
    },
    {
      id: 'finetune',
      title: 'Fine-tuning, and its control',
      text: 'Masking 75 % of conv1 by L1 costs accuracy; the article then fine-tunes. Press Fine-tune (1 epoch). The run history then also trains the control: the unpruned baseline fine-tuned the same way — a pruned network that improves may still lose to the same training without pruning.',
      state: { view: 'prune', model: 'simplecnn', mode: 'mask', method: 'l1', conv1: '75', ftEpochs: '1' },
      target: 'finetune',
      predict: {
        question: 'What does one epoch of fine-tuning do to the pruned accuracy?',
        measure: 'finetuneGain',
        choices: [
          { label: 'it goes down', max: 0 },
          { label: 'up by less than 5 points', min: 0, max: 0.05 },
          { label: 'up by 5 points or more', min: 0.05 },
        ],
        explain: 'Masked weights stay zero while the other weights adapt. Compare the run’s fine-tuned accuracy with its control in the history.',
      },
    },
  ],
};
