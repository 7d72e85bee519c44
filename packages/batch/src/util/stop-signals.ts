/**
 * Ctrl-C, SIGTERM and SIGHUP as "stop" requests: the first asks for a clean stop, a later one for stopping now.
 *
 * One keypress often arrives as several signals. The terminal sends SIGINT to the whole foreground process
 * group, and wrappers such as `pnpm exec`, `pnpm run` and `npm run` forward what they receive (pnpm 10 forwards
 * SIGINT and then SIGTERM, a few milliseconds apart). Signals within `sameRequestMs` of the first are therefore
 * taken as the same request; only a later one means "now".
 */

export const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
export type StopSignal = (typeof STOP_SIGNALS)[number];

export interface StopHandlers {
  /** The first request: stop cleanly. */
  stop(signal: StopSignal): void;
  /** A second request, at least `sameRequestMs` after the first: stop now. */
  now(signal: StopSignal): void;
}

export function onStopSignals(handlers: StopHandlers, options: { sameRequestMs?: number } = {}): () => void {
  const sameRequestMs = options.sameRequestMs ?? 1000;
  let firstAt: number | undefined;
  let nowSent = false;
  const listener = (signal: StopSignal) => {
    const at = Date.now();
    if (firstAt === undefined) {
      firstAt = at;
      handlers.stop(signal);
    } else if (at - firstAt >= sameRequestMs && !nowSent) {
      nowSent = true;
      handlers.now(signal);
    }
  };
  for (const signal of STOP_SIGNALS) process.on(signal, listener);
  return () => {
    for (const signal of STOP_SIGNALS) process.off(signal, listener);
  };
}
