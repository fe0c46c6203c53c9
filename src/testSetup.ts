/**
 * Vitest setup (vite.config.ts): the custom kernels as the engine installs them — or, in the
 * 'stock-kernels' project (PLAYGROUND_KERNELS=stock), stock tfjs. Without a self-check: the tests
 * compare against stock themselves, and kernels.test.ts tests the self-check.
 */
import { installKernels } from './core/backend/kernels';

await installKernels({ kernels: process.env.PLAYGROUND_KERNELS === 'stock' ? 'stock' : 'custom', selfCheck: false });
