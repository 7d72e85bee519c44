/**
 * `Retry-After` (RFC 9110 §10.2.3): delay-seconds or an HTTP-date. `Date.parse` alone is too forgiving
 * ("1" parses as the year 2001), so a date must look like one of the three HTTP-date forms first.
 */

const SECONDS = /^\s*(\d+(?:\.\d+)?)\s*$/;
const HTTP_DATE =
  /^\s*(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)[a-z]*,?\s+(?:\d{1,2}[\s-](?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[\s-]\d{2,4}\s+\d{2}:\d{2}:\d{2}\s+GMT|(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)\s+\d{1,2}\s+\d{2}:\d{2}:\d{2}\s+\d{4})\s*$/i;

/**
 * Milliseconds to wait, from a `Retry-After` header value (the first, if repeated). A date in the past gives
 * 0. Anything unparsable gives undefined: the caller falls back to its own backoff.
 */
export function parseRetryAfter(
  value: string | readonly string[] | undefined | null,
  nowMs = Date.now(),
): number | undefined {
  const text = typeof value === 'string' ? value : value?.[0];
  if (typeof text !== 'string' || text === '') return undefined;
  const seconds = SECONDS.exec(text);
  if (seconds) return Math.round(Number(seconds[1]) * 1000);
  if (!HTTP_DATE.test(text)) return undefined;
  const at = Date.parse(text.trim().endsWith('GMT') ? text : `${text} GMT`);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - nowMs);
}
