/**
 * Test-only (unit and e2e tests), independent of the graph code it checks:
 * ResNet-20's parameters and MACs per image from its architecture (He et al.: stem 3→16, three stages
 * of three basic blocks, option-B 1×1 stride-2 shortcuts, GAP, fc 64→10), for `units` kept per group.
 */
export function resnet20Counts(units: Record<string, number> = {}): { params: number; macs: number } {
  const stream = [1, 2, 3].map((s) => units[`stream${s}`] ?? [16, 32, 64][s - 1]);
  const size = [32, 16, 8];
  let params = 27 * stream[0] + 2 * stream[0];
  let macs = 32 * 32 * 27 * stream[0];
  let prev = stream[0];
  for (let s = 0; s < 3; s++)
    for (let b = 0; b < 3; b++) {
      const inner = units[`inner${s + 1}.${b + 1}`] ?? [16, 32, 64][s];
      const px = size[s] * size[s];
      params += 9 * prev * inner + 2 * inner + 9 * inner * stream[s] + 2 * stream[s];
      macs += px * 9 * prev * inner + px * 9 * inner * stream[s];
      if (s > 0 && b === 0) {
        params += prev * stream[s] + 2 * stream[s];
        macs += px * prev * stream[s];
      }
      prev = stream[s];
    }
  return { params: params + 10 * stream[2] + 10, macs: macs + 10 * stream[2] };
}
