/**
 * The provider stamps answers like `2026-02-02T10:44:54.716004004+08:00[Asia/Shanghai]` (Java's
 * ZonedDateTime): nanoseconds and a bracketed zone id, which `new Date()` rejects.
 */

const TIMESTAMP =
  /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?\s*(?:\[([^\]]+)\])?$/i;

const zoneFormats = new Map<string, Intl.DateTimeFormat | null>();

function zoneFormat(zone: string): Intl.DateTimeFormat | null {
  let format = zoneFormats.get(zone);
  if (format === undefined) {
    try {
      format = new Intl.DateTimeFormat('en-US', {
        timeZone: zone,
        hourCycle: 'h23',
        year: 'numeric',
        month: 'numeric',
        day: 'numeric',
        hour: 'numeric',
        minute: 'numeric',
        second: 'numeric',
      });
    } catch {
      format = null;
    }
    zoneFormats.set(zone, format);
  }
  return format;
}

/** The zone's UTC offset at instant `utcMs`, in ms. */
function zoneOffsetMs(format: Intl.DateTimeFormat, utcMs: number): number {
  const p: Record<string, number> = {};
  for (const part of format.formatToParts(new Date(utcMs))) p[part.type] = Number(part.value);
  const wall = Date.UTC(p.year!, p.month! - 1, p.day!, p.hour!, p.minute!, p.second!);
  return wall - (utcMs - (((utcMs % 1000) + 1000) % 1000));
}

function offsetMs(text: string): number {
  if (text === 'Z' || text === 'z') return 0;
  const sign = text[0] === '-' ? -1 : 1;
  const digits = text.slice(1).replace(':', '');
  return sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4) || '0')) * 60_000;
}

/**
 * Parse a provider timestamp. Accepts the provider's form, plain ISO 8601 (with or without offset, with
 * any number of fraction digits), an offset-less time with a bracketed zone, and epoch seconds or
 * milliseconds. A time with neither offset nor zone is read as UTC. Returns undefined for anything else.
 */
export function parseProviderTimestamp(value: unknown): Date | undefined {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? undefined : value;
  if (typeof value === 'string' && /^\s*\d{9,}(\.\d+)?\s*$/.test(value)) value = Number(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 1e9) return undefined;
    return new Date(value < 1e11 ? Math.round(value * 1000) : value);
  }
  if (typeof value !== 'string') return undefined;
  const m = TIMESTAMP.exec(value.trim());
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, frac, offset, zone] = m;
  const month = Number(mo);
  const day = Number(d);
  const wallMs = Date.UTC(
    Number(y),
    month - 1,
    day,
    Number(h),
    Number(mi),
    Number(s ?? '0'),
    Number((frac ?? '').slice(0, 3).padEnd(3, '0')),
  );
  const check = new Date(wallMs);
  if (check.getUTCMonth() !== month - 1 || check.getUTCDate() !== day || Number(h) > 23 || Number(mi) > 59) {
    return undefined;
  }
  if (offset) return new Date(wallMs - offsetMs(offset));
  if (zone) {
    const format = zoneFormat(zone);
    if (!format) return undefined;
    // Two passes settle the offset across a DST change.
    const first = wallMs - zoneOffsetMs(format, wallMs);
    return new Date(wallMs - zoneOffsetMs(format, first));
  }
  return check;
}
