const UNIT_MS = { d: 24 * 3600_000, h: 3600_000, m: 60_000 } as const;
/** Ten years: a longer expiry is a mistake more often than a plan. */
const MAX_MS = 3650 * UNIT_MS.d;

/** `30d`, `12h`, `90m` → milliseconds; undefined for anything else (zero, other units, fractions, over ten years). */
export function parseDuration(text: string): number | undefined {
  const match = /^(\d{1,7})([dhm])$/.exec(text.trim());
  if (!match) return undefined;
  const ms = Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
  return ms > 0 && ms <= MAX_MS ? ms : undefined;
}
