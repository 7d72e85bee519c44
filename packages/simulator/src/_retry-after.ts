import type { RetryAfterFormat } from './types.js';

export interface RetryAfter {
  /** The header value, or undefined to send none. */
  header: string | undefined;
  /** What a client that parses the header correctly learns, in ms (for the ledger). */
  announcedMs: number | undefined;
}

/** `Retry-After` for a wait of `waitMs`, rounded up so a client that honours it is never early. */
export function retryAfter(format: RetryAfterFormat, waitMs: number, now: number): RetryAfter {
  switch (format) {
    case 'seconds': {
      const s = Math.max(0, Math.ceil(waitMs / 1000));
      return { header: String(s), announcedMs: s * 1000 };
    }
    case 'http-date': {
      // HTTP-dates have whole seconds: round the moment up.
      const at = Math.ceil((now + waitMs) / 1000) * 1000;
      return { header: new Date(at).toUTCString(), announcedMs: at - now };
    }
    case 'garbage':
      return { header: 'soon-ish', announcedMs: undefined };
    case 'none':
      return { header: undefined, announcedMs: undefined };
  }
}
