/**
 * dependency-cruiser (`npm run lint:cycles`, part of `npm test`): no import cycle anywhere in the
 * sources, type-only imports included (`tsPreCompilationDeps`) — a type-only cycle still ties two
 * modules together. Issue 18: the state layer shares its shapes through the leaf state/types.ts,
 * and main.tsx is the one place that wires state and UI together.
 */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'An import cycle: move the shared piece into a leaf module (e.g. src/state/types.ts) or pass it in.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'state-not-ui',
      severity: 'error',
      comment: 'src/state is framework-free of the UI: main.tsx wires the UI to it, never the other way round.',
      from: { path: '^src/state/' },
      to: { path: '^src/ui/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(node_modules|dist)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.tsx', '.js', '.mjs'] },
  },
};
