// ESLint (flat config): `npm run lint`.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import js from '@eslint/js';
import { defineConfig, globalIgnores } from 'eslint/config';
import reactHooks from 'eslint-plugin-react-hooks';
import globals from 'globals';
import tseslint from 'typescript-eslint';
import { isTensorflow, isTestFile, reachFinder, sourceFiles } from './scripts/importGraph.mjs';

const root = path.dirname(fileURLToPath(import.meta.url));

/**
 * The page (src/ui, src/state) must stay free of tfjs: the engine lives in the worker. Besides
 * `@tensorflow/*` itself, every src/core module whose value imports lead to tfjs is off limits
 * (found from the import graph, so a new one is covered without editing this list). Type-only
 * imports of those modules are fine: they are erased. src/architecture.test.ts checks the same.
 */
const reachTf = reachFinder(isTensorflow);
const tfCoreModules = sourceFiles(path.join(root, 'src/core'))
  .filter((file) => !isTestFile(file))
  .map((file) => ({ file, chain: reachTf(file) }))
  .filter(({ chain }) => chain != null)
  .map(({ file, chain }) => {
    const mod = path.relative(path.join(root, 'src'), file).replace(/\.tsx?$/, '');
    const name = mod.replace(/\/index$/, '');
    const via = chain.slice(1, -1).map((p) => path.relative(path.join(root, 'src'), p));
    return {
      // Matches '../core/model/net', '../../core/pruning', '../core/pruning/index.ts', …
      regex: `(^|/)${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}${mod !== name ? '(/index)?' : ''}(\\.tsx?)?$`,
      allowTypeImports: true,
      message: `${mod} pulls in ${chain.at(-1)}${via.length ? ` (through ${via.join(' → ')})` : ''}; the page must stay tfjs-free — ask the engine in the worker (src/worker/client.ts) instead, or import only types.`,
    };
  });

export default defineConfig([
  globalIgnores(['dist*', 'node_modules', 'public', 'test-results', 'playwright-report']),

  js.configs.recommended,
  tseslint.configs.recommended,

  { files: ['**/*.tsx'], extends: [reactHooks.configs.flat.recommended] },

  // Where each file runs.
  { files: ['src/**', 'bench/**'], languageOptions: { globals: globals.browser } },
  { files: ['src/worker/**', 'bench/trainWorker.ts'], languageOptions: { globals: { ...globals.browser, ...globals.worker } } },
  {
    // Node: tests, their helpers, scripts, configs. e2e and scripts also hand functions to
    // page.evaluate, which run in the page.
    files: ['src/**/*.test.ts', 'src/core/io/pythonForTests.ts', 'scripts/**', 'e2e/**', 'bench/tools/**', '*.config.{js,ts}', 'bench/*.config.ts'],
    languageOptions: { globals: { ...globals.node, ...globals.browser } },
  },

  { files: ['**/*.cjs'], languageOptions: { sourceType: 'commonjs', globals: globals.node } },

  {
    files: ['src/ui/**', 'src/state/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['@tensorflow/*'],
              message: 'src/ui and src/state must not import TensorFlow.js (not even types): the engine lives in the worker (src/worker/client.ts).',
            },
            ...tfCoreModules,
          ],
        },
      ],
    },
  },
]);
