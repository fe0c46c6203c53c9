/** Types for scripts/bench-backends.mjs (its unit test imports them). */
export function gpuFlags(angle?: string, override?: string): string[];
