/** Number formatting shared by the components (en-US grouping so tests and screenshots agree). */
export const int = (n: number): string => Math.round(n).toLocaleString('en-US');

export const pct = (x: number, digits = 1): string => `${(x * 100).toFixed(digits)}%`;

export function bytes(n: number): string {
  if (n >= 1024 * 1024) return `${(n / (1024 * 1024)).toFixed(2)} MiB`;
  if (n >= 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${n} B`;
}

export function compact(n: number): string {
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)}k`;
  return String(n);
}
