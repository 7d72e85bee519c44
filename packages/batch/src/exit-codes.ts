/** Exit codes: a promise to users' scripts and schedulers (DESIGN.md, README "Exit codes"). */
export const EXIT = {
  /** Every task succeeded (or: the command did what it was asked). */
  OK: 0,
  /** The run finished but some tasks failed or are unknown/pending (for `film`: a shot has no usable video). */
  TASKS_FAILED: 1,
  /** Invalid manifest or usage, or the run directory is locked by another runner. Nothing was sent. */
  USAGE: 2,
  /** Authentication or configuration error, or a local disk problem (E_LOCAL_IO): state kept, resumable. */
  CONFIG: 3,
  /** Interrupted by SIGINT/SIGTERM/SIGHUP: state saved, the same command resumes. */
  INTERRUPTED: 130,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** Which exit code an error that reached the top of the CLI maps to. */
export function exitCodeFor(code: string | undefined): ExitCode {
  switch (code) {
    case 'E_USAGE':
    case 'E_MANIFEST':
    case 'E_LOCKED':
    case 'E_OTHER_PROVIDER':
    case 'E_INVALID_REQUEST':
      return EXIT.USAGE;
    case 'E_ABORTED':
    case 'E_INTERRUPTED':
      return EXIT.INTERRUPTED;
    case 'E_FILM_INCOMPLETE':
    case 'E_CLIP_INVALID':
      return EXIT.TASKS_FAILED;
    default:
      return EXIT.CONFIG;
  }
}
