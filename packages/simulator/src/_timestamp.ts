const SHANGHAI_OFFSET_MS = 8 * 3_600_000;
let subMs = 0;

/**
 * The provider's `ts`: ISO local time in Shanghai with nanoseconds and a bracketed zone id, e.g.
 * `2026-02-02T10:44:54.716004004+08:00[Asia/Shanghai]`. The digits below the millisecond only keep values
 * distinct; they carry no meaning.
 */
export function providerTimestamp(epochMs: number): string {
  const local = new Date(Math.floor(epochMs) + SHANGHAI_OFFSET_MS).toISOString(); // …T02:44:54.716Z, shifted
  subMs = (subMs + 7919) % 1_000_000;
  return `${local.slice(0, 23)}${String(subMs).padStart(6, '0')}+08:00[Asia/Shanghai]`;
}
