/** What the benchmark scripts share: integer settings from the environment, and medians. */

/** An integer setting from the environment, at least `least` (1 unless said); a clear error otherwise. */
export function int(name: string, fallback: number, least = 1): number {
  const v = process.env[name];
  if (v === undefined || v === '') return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < least) throw new Error(`${name} must be an integer of at least ${least}, got ${JSON.stringify(v)}`);
  return n;
}

/** The median (the mean of the two middle values for an even count). */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}
