/** Provider-style business codes the simulator answers with (`code` != 0 means failure). */
export const CODE = {
  OK: 0,
  BAD_JSON: 40000,
  INVALID_PARAM: 40001,
  UNSUPPORTED_FILE: 40002,
  NO_FILE: 40003,
  TASK_NOT_FOUND: 40004,
  TASK_NOT_FINISHED: 40005,
  TASK_FAILED: 40006,
  UNAUTHORIZED: 40100,
  URL_EXPIRED: 40300,
  NOT_FOUND: 40400,
  METHOD_NOT_ALLOWED: 40500,
  TOO_LARGE: 41300,
  RANGE_NOT_SATISFIABLE: 41600,
  RATE_LIMITED: 42900,
  TOO_MANY_RUNNING: 42901,
  BUSY: 50000,
} as const;

/** The provider's moderation answer, verbatim (API.md): HTTP 400 with this body and no `code`. */
export const MODERATION_MESSAGE =
  'The content contains inappropriate information and does not pass the review.';
