/**
 * Lesson 2: what structured pruning really changes — masks against removal, which layers are
 * sensitive, ResNet-20's residual coupling (dependency groups), and schedules (AGP).
 */
import type { Choice, Lesson } from './types';

const MAC_SHARES: Choice[] = [
  { label: 'under 50 %', max: 0.5 },
  { label: '50 – 90 %', min: 0.5, max: 0.9 },
  { label: '90 – 99.9 %', min: 0.9, max: 0.999 },
  { label: 'all of them (100 %)', min: 0.999 },
];

/** Accuracy bands for ConvNet-3 on the 1,000 test images. */
const ACCURACY_BANDS: Choice[] = [
  { label: 'under 20 %', max: 0.2 },
  { label: '20 – 40 %', min: 0.2, max: 0.4 },
  { label: '40 – 55 %', min: 0.4, max: 0.55 },
  { label: '55 % or more', min: 0.55 },
];

const CONV_LAYERS: Choice[] = [
  { label: 'one', max: 2 },
  { label: 'two', min: 2, max: 3 },
  { label: 'three to five', min: 3, max: 6 },
  { label: 'six or more', min: 6 },
];

export const structuredLesson: Lesson = {
  id: 'structure',
  title: 'Masks vs removal, sensitivity, residual coupling, schedules',
  summary: 'What removing filters changes that masking does not, which layers can lose filters, why ResNet-20’s channels go in groups, and AGP.',
  steps: [
    {
      id: 'mask',
      title: 'A mask keeps the network',
      text: 'ConvNet-3 (three conv → BatchNorm → ReLU → max-pool blocks). Half of conv2’s 32 filters are masked by L1 norm, as torch.nn.utils.prune does. Look at the figures table.',
      state: { view: 'prune', model: 'convnet3', mode: 'mask', method: 'l1', conv2: '50' },
      target: 'fig-macs',
      predict: {
        question: 'What share of the MACs per image (multiply-adds the dense kernels run) is left?',
        measure: 'macsKeptShare',
        choices: MAC_SHARES,
        explain: 'A mask multiplies weights by zero; the kernels still run every multiply. Masks save nothing until the network is rebuilt smaller.',
      },
    },
    {
      id: 'remove',
      title: 'Removal builds a smaller network',
      text: 'Same filters, mode Remove: conv2 loses 16 filters and with them 16 BatchNorm channels and 16 of conv3’s input channels — its dependency group.',
      state: { view: 'prune', model: 'convnet3', mode: 'remove', method: 'l1', conv2: '50' },
      target: 'fig-macs',
      predict: {
        question: 'What share of the MACs per image is left now?',
        measure: 'macsKeptShare',
        choices: MAC_SHARES,
        explain: 'Half of conv2’s outputs and half of conv3’s inputs go: both layers shrink, conv1 does not.',
      },
    },
    {
      id: 'sensitive-first',
      title: 'Sensitivity: the first layer',
      text: 'Remove half of conv1’s 16 filters (L1) and nothing else. The page evaluates the smaller network at once.',
      state: { view: 'prune', model: 'convnet3', mode: 'remove', method: 'l1', conv1: '50' },
      target: 'pruned-acc',
      predict: { question: 'How much accuracy is left?', measure: 'prunedAccuracy', choices: ACCURACY_BANDS },
    },
    {
      id: 'sensitive-last',
      title: 'Sensitivity: the last conv layer',
      text: 'Now half of conv3’s 64 filters instead. The layer sensitivity scan (Experiments view) does this for every layer and amount.',
      state: { view: 'prune', model: 'convnet3', mode: 'remove', method: 'l1', conv3: '50' },
      target: 'pruned-acc',
      predict: {
        question: 'How much accuracy is left?',
        measure: 'prunedAccuracy',
        choices: ACCURACY_BANDS,
        explain: 'Compare with conv1 one step back: layers differ in how much they can lose, which is why pruning amounts are set per layer.',
      },
    },
    {
      id: 'residual',
      title: 'Residual coupling: a stream goes together',
      text: 'ResNet-20 adds each block’s output to its input, so every conv writing into a stage’s residual stream must keep the same channels. The slider is the whole stream of stage 2 (Torch-Pruning’s dependency group). Click a stripe of the network drawing to light its group.',
      state: { view: 'prune', model: 'resnet20', mode: 'remove', method: 'l1', stream2: '50' },
      target: 'network-view',
      predict: {
        question: 'How many conv layers lose weights when half of stage 2’s stream channels are removed?',
        measure: 'convLayersShrunk',
        choices: CONV_LAYERS,
        explain: 'Every conv that writes into the stream (each block’s second conv and the stage’s 1×1 shortcut) and every conv that reads it (the later blocks’ first convs, and stage 3’s first conv and shortcut) — remove a channel from one alone and the add fails (try Break it).',
      },
    },
    {
      id: 'inner',
      title: 'Inner channels are free',
      text: 'A block’s inner channels (between its two convs) are not added to anything: block 2.1’s alone.',
      state: { view: 'prune', model: 'resnet20', mode: 'remove', method: 'l1', 'inner2.1': '50' },
      target: 'network-view',
      predict: {
        question: 'How many conv layers lose weights now?',
        measure: 'convLayersShrunk',
        choices: CONV_LAYERS,
        explain: 'The block’s first conv loses filters, its second conv the matching input channels: the choice Li et al. 2017 made for ResNets.',
      },
    },
    {
      id: 'agp',
      title: 'Schedules: AGP prunes large first',
      text: 'Instead of cutting 75 % at once, prune in 3 steps with fine-tuning between. Automated Gradual Pruning (Zhu & Gupta 2017) sets step t to s·(1 − (1 − t/3)³). The plan is under the Schedule picker.',
      state: { view: 'prune', model: 'convnet3', mode: 'remove', method: 'l1', conv1: '75', conv2: '75', conv3: '75', schedule: 'agp', steps: '3' },
      target: 'schedule-plan',
      predict: {
        question: 'What share of the final 75 % does AGP prune in its first step?',
        measure: 'firstStepShare',
        choices: [
          { label: 'less than a third', max: 0.333 },
          { label: 'a third (equal steps)', min: 0.333, max: 0.334 },
          { label: 'between a third and two thirds', min: 0.334, max: 0.667 },
          { label: 'more than two thirds', min: 0.667 },
        ],
        explain: 'Large cuts early, while the network still has redundancy to lose, then small ones as it gets tight. Iterative pruning would take equal thirds.',
      },
    },
  ],
};
