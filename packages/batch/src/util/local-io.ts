import { Flf2vError, localIoHint } from '@flf2v/core/rules';

/** A system error code that a person must fix on this machine (a full disk, permissions), not a bug. */
export function isLocalIoCode(code: string | undefined): boolean {
  return localIoHint(code) !== undefined;
}

/** `E_LOCAL_IO` for a failed local write: what failed, the system code, what it means, and that nothing is lost. */
export function localIoError(what: string, error: unknown): Flf2vError {
  const code = (error as NodeJS.ErrnoException).code ?? 'error';
  const hint = localIoHint(code);
  return new Flf2vError(
    'E_LOCAL_IO',
    `${what} (${code}${hint ? `: ${hint}` : ''}). Everything recorded before this is kept: fix that, then run the same command again.`,
    { retryable: false, cause: error },
  );
}
