/** Value parsers for flags: each throws commander's InvalidArgumentError, which exits with the usage code. */
import { InvalidArgumentError } from 'commander';

export function parseInteger(min: number, max = Number.MAX_SAFE_INTEGER): (value: string) => number {
  return (value) => {
    const n = /^\d+$/.test(value) ? Number(value) : Number.NaN;
    if (!Number.isSafeInteger(n) || n < min || n > max) throw new InvalidArgumentError(`expected a whole number from ${min} to ${max}`);
    return n;
  };
}

const SIZE_UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, kb: 1024, kib: 1024, m: 1 << 20, mb: 1 << 20, mib: 1 << 20, g: 1 << 30, gb: 1 << 30, gib: 1 << 30 };

/** "65536", "64KiB", "16 MiB", "1g" (binary units). */
export function parseSize(value: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*([a-zA-Z]*)$/.exec(value.trim());
  const unit = match ? SIZE_UNITS[match[2]!.toLowerCase()] : undefined;
  const n = match && unit !== undefined ? Math.floor(Number(match[1]) * unit) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError('expected a size like 65536, 64KiB or 16MiB');
  return n;
}

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000 };

/** Milliseconds: "500", "500ms", "10s", "2m". */
export function parseDuration(value: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*(ms|s|m)?$/.exec(value.trim());
  const n = match ? Math.round(Number(match[1]) * DURATION_UNITS[match[2] ?? 'ms']!) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < 0) throw new InvalidArgumentError('expected a duration like 500 (ms), 10s or 2m');
  return n;
}

/** Like parseDuration, but 0 is not allowed (a timeout of nothing). */
export function parsePositiveDuration(value: string): number {
  const n = parseDuration(value);
  if (n === 0) throw new InvalidArgumentError('must be above 0');
  return n;
}

/** A count or "all" (no limit). */
export function parseCountOrAll(value: string): number {
  if (value === 'all' || value === 'unlimited') return Number.POSITIVE_INFINITY;
  return parseInteger(1)(value);
}
