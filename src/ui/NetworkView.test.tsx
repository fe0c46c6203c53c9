import { act, cleanup, fireEvent, render, screen } from '@testing-library/react';
import ELK from 'elkjs/lib/elk.bundled.js';
import { afterEach, describe, expect, it } from 'vitest';
import { structure } from '../core/model/graph';
import { convNet3, resnet20, simpleCnn } from '../core/model/zoo';
import type { ModelSpec } from '../core/model/spec';
import { NetworkDiagram, type PruneState } from './NetworkView';
import { COMPACT_STRIPE, LABEL_HEIGHT, STRIPE, layoutNetwork, networkBlocks } from './networkLayout';

afterEach(cleanup);
const elk = () => Promise.resolve(new ELK());

async function draw(spec: ModelSpec, prune: PruneState | null) {
  render(<NetworkDiagram spec={spec} prune={prune} elk={elk} />);
  await screen.findByTestId('network-svg', {}, { timeout: 30_000 }); // elk's layout, in-thread here
}
const stripes = (layer: string) => Array.from(screen.getByTestId(`net-block-${layer}`).querySelectorAll('rect.stripe')) as SVGRectElement[];
const states = (layer: string) => stripes(layer).map((s) => s.getAttribute('data-state'));

describe('networkBlocks: what the view draws, from the graph', () => {
  it('every conv, add and the linear layer is a block; BatchNorm/ReLU/pool fold into the conv before them', () => {
    for (const spec of [simpleCnn, convNet3, resnet20]) {
      const st = structure(spec);
      const { blocks } = networkBlocks(spec);
      const drawn = st.nodes.filter((n) => n.op === 'conv' || n.op === 'add' || n.op === 'linear').map((n) => n.name);
      expect(blocks.map((b) => b.id).sort()).toEqual(['input', ...drawn].sort());
      const folded = blocks.flatMap((b) => b.folded);
      expect(folded.length + drawn.length).toBe(st.nodes.length); // every node drawn or folded exactly once
    }
    expect(networkBlocks(convNet3).blocks.find((b) => b.id === 'conv2')!.folded).toEqual(['bn2', 'conv2.relu', 'conv2.pool']);
  });

  it('ResNet-20: the shortcuts are edges from one add to the next, and the 1×1 shortcut conv is a block of its own', () => {
    const { edges } = networkBlocks(resnet20);
    expect(edges).toContainEqual({ from: 'layers.0.add', to: 'layers.1.add' }); // identity shortcut
    expect(edges).toContainEqual({ from: 'layers.2.add', to: 'layers.3.shortcut.0' });
    expect(edges).toContainEqual({ from: 'layers.3.shortcut.0', to: 'layers.3.add' });
    expect(edges).toContainEqual({ from: 'layers.8.add', to: 'fc' }); // avgpool + flatten folded into the last add
  });

  it('elk places every block without overlaps, left to right', async () => {
    for (const spec of [simpleCnn, convNet3, resnet20]) {
      const l = await layoutNetwork(spec, new ELK());
      for (const a of l.blocks)
        for (const b of l.blocks) {
          if (a === b) continue;
          const apart = a.x + a.width <= b.x || b.x + b.width <= a.x || a.y + a.height <= b.y || b.y + b.height <= a.y;
          expect(apart, `${a.id} overlaps ${b.id}`).toBe(true);
        }
      const x = (id: string) => l.blocks.find((b) => b.id === id)!.x;
      expect(x('input')).toBeLessThan(x(structure(spec).output.name));
      expect(l.edges.every((e) => e.points.length >= 2)).toBe(true);
    }
  });

  it('the prune view’s compact stripe halves ResNet-20’s blocks, so its drawing is scaled by more than 3/4 into 240 px (labels readable), not by half', async () => {
    const full = await layoutNetwork(resnet20, new ELK());
    const compact = await layoutNetwork(resnet20, new ELK(), COMPACT_STRIPE);
    const block = (l: typeof full, id: string) => l.blocks.find((b) => b.id === id)!;
    expect(block(full, 'layers.8.conv1').height).toBe(64 * STRIPE + LABEL_HEIGHT);
    expect(block(compact, 'layers.8.conv1').height).toBe(64 * COMPACT_STRIPE + LABEL_HEIGHT);
    expect(240 / full.height).toBeLessThan(0.6);
    expect(240 / compact.height).toBeGreaterThan(0.75);
  });
});

describe('NetworkDiagram', () => {
  it('ConvNet-3, remove conv2 50 %: conv2 shows 16 of its 32 stripes, the others all', async () => {
    const kept = { conv1: [...Array(16).keys()], conv2: [0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30], conv3: [...Array(64).keys()] };
    await draw(convNet3, { mode: 'remove', kept });
    expect(stripes('conv2')).toHaveLength(16);
    expect(screen.getByTestId('net-block-conv2').getAttribute('data-kept')).toBe('16');
    expect(stripes('conv1')).toHaveLength(16);
    expect(stripes('conv3')).toHaveLength(64);
    expect(screen.queryByTestId('stripe-conv2-1')).toBeNull();
    expect(screen.getByTestId('network-row-conv2').textContent).toContain('16 / 32');
  });

  it('mask mode keeps pruned stripes, grey', async () => {
    await draw(convNet3, { mode: 'mask', kept: { conv1: [...Array(16).keys()], conv2: [...Array(24).keys()], conv3: [...Array(64).keys()] } });
    expect(stripes('conv2')).toHaveLength(32);
    expect(states('conv2').filter((s) => s === 'pruned')).toHaveLength(8);
    expect(screen.getByTestId('stripe-conv2-30').getAttribute('data-state')).toBe('pruned');
  });

  it('ResNet-20: clicking a stream channel lights every layer of the stage’s stream, with the counts it takes', async () => {
    await draw(resnet20, null);
    fireEvent.click(screen.getByTestId('stripe-layers.4.conv2-5'));
    const g = structure(resnet20).groups.find((x) => x.id === 'stream2')!;
    for (const p of g.producers) expect(screen.getByTestId(`stripe-${p}-5`).getAttribute('data-state')).toBe('lit');
    for (const layer of [...g.producers, ...g.consumers, ...g.adds]) expect(screen.getByTestId(`net-block-${layer}`).getAttribute('class')).toContain('lit');
    expect(screen.getByTestId('net-block-layers.1.conv2').getAttribute('class')).not.toContain('lit'); // stage 1's stream
    expect(screen.getByTestId('stripe-layers.3.conv1-5').getAttribute('data-state')).toBe('kept'); // an inner group, not this one
    const note = screen.getByTestId('network-group').textContent!;
    expect(note).toContain('residual stream of stage 2, channel 5');
    expect(note).toContain('removing 1 of stage 2\'s 32 stream channels');
  });

  it('hovering a channel lights its group like a click, and leaving puts back the clicked one (issue 23)', async () => {
    await draw(convNet3, null);
    const lit = () => ['conv1', 'conv2', 'conv3'].filter((l) => screen.getByTestId(`net-block-${l}`).getAttribute('class')!.includes('lit'));
    fireEvent.click(screen.getByTestId('stripe-conv1-0'));
    expect(lit()).toEqual(['conv1', 'conv2']); // conv1's filters and conv2's input channels
    fireEvent.mouseEnter(screen.getByTestId('stripe-conv2-7'));
    expect(lit()).toEqual(['conv2', 'conv3']);
    expect(screen.getByTestId('stripe-conv2-7').getAttribute('data-state')).toBe('lit');
    expect(screen.getByTestId('network-group').textContent).toContain('channel 7');
    fireEvent.mouseLeave(screen.getByTestId('net-block-conv2'));
    expect(lit()).toEqual(['conv1', 'conv2']);
    expect(screen.getByTestId('stripe-conv1-0').getAttribute('data-state')).toBe('lit');
  });

  it('keyboard: a focused layer lights its group, the arrow keys move the channel, Enter selects it (issue 23)', async () => {
    await draw(convNet3, { mode: 'remove', kept: { conv2: [0, 2, 3] } });
    const block = screen.getByTestId('net-block-conv2');
    expect(block.getAttribute('tabindex')).toBe('0');
    expect(block.getAttribute('aria-label')).toContain('conv2: 3 of 32 channels left');
    fireEvent.focus(block);
    expect(screen.getByTestId('stripe-conv2-0').getAttribute('data-state')).toBe('lit');
    expect(screen.getByTestId('net-block-conv3').getAttribute('class')).toContain('lit');
    fireEvent.keyDown(block, { key: 'ArrowDown' }); // channel 1 is removed: the next drawn one is 2
    expect(screen.getByTestId('stripe-conv2-2').getAttribute('data-state')).toBe('lit');
    fireEvent.keyDown(block, { key: 'Enter' });
    fireEvent.blur(block);
    expect(screen.getByTestId('stripe-conv2-2').getAttribute('data-state')).toBe('lit'); // selected, stays
    expect(screen.getByTestId('network-group').textContent).toContain('channel 2');
  });

  it('ConvNet-3: "break it" on conv2 shows the error PyTorch would raise at conv3', async () => {
    await draw(convNet3, null);
    fireEvent.click(screen.getByTestId('break-it'));
    fireEvent.click(screen.getByTestId('stripe-conv2-3'));
    expect(screen.getByTestId('break-error').textContent).toBe(
      'RuntimeError: Given groups=1, weight of size [64, 32, 3, 3], expected input[1, 31, 8, 8] to have 32 channels, but got 31 channels instead',
    );
    expect(screen.getByTestId('stripe-conv2-3').getAttribute('data-state')).toBe('broken');
  });

  it('the table’s group button lights the group (keyboard path)', async () => {
    await draw(simpleCnn, null);
    await act(async () => fireEvent.click(screen.getByRole('button', { name: 'conv1' })));
    expect(screen.getByTestId('network-group').textContent).toContain('removing 1 of conv1\'s 64 filters');
    expect(screen.getByTestId('net-block-fc1').getAttribute('class')).toContain('lit');
  });
});
