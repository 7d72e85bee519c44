import { Flf2vError } from '@flf2v/core/rules';

const HINTS: Record<string, string> = {
  ENOSPC: 'the disk is full',
  EDQUOT: 'the disk quota is used up',
  EROFS: 'the filesystem is read-only',
  EACCES: 'no permission',
  EPERM: 'no permission',
};

/** A system error code that a person must fix on this machine (not a bug, not the provider). */
export function isLocalIoCode(code: string | undefined): boolean {
  return code !== undefined && code in HINTS;
}

/** `E_LOCAL_IO` for a failed local write: what failed, the system code, what it means, and that nothing is lost. */
export function localIoError(what: string, error: unknown): Flf2vError {
  const code = (error as NodeJS.ErrnoException).code ?? 'error';
  const hint = HINTS[code];
  return new Flf2vError(
    'E_LOCAL_IO',
    `${what} (${code}${hint ? `: ${hint}` : ''}). Everything recorded before this is kept: fix that, then run the same command again.`,
    { retryable: false, cause: error },
  );
}
