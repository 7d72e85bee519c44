import { Flf2vError, localIoHint } from '@flf2v/core/rules';

/** `E_LOCAL_IO` for a failed local file operation: what failed, the system code, what it means, that nothing is lost. */
export function localIoError(what: string, error: unknown): Flf2vError {
  const code = (error as NodeJS.ErrnoException).code ?? 'error';
  const hint = localIoHint(code);
  return new Flf2vError(
    'E_LOCAL_IO',
    `${what} (${code}${hint ? `: ${hint}` : ''}). Everything recorded before this is kept: fix that, then run the same command again.`,
    { retryable: false, cause: error },
  );
}

/**
 * `E_LOCAL_IO` when the error is one a person fixes on this machine (a full disk, a read-only filesystem, no
 * permission); undefined for anything else, which the caller reports as it would have.
 */
export function localIoFailure(what: string, error: unknown): Flf2vError | undefined {
  return localIoHint((error as NodeJS.ErrnoException).code) === undefined
    ? undefined
    : localIoError(what, error);
}
