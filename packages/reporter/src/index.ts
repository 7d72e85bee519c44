export type { HtmlOptions } from './html/page.js';
export { defaultHtmlOptions, renderHtml } from './html/page.js';
export { renderJson } from './json.js';
export { renderJunit } from './junit.js';
export { reportSchema } from './schema.js';
export { computeTotals } from './totals.js';
export type {
  FilmSummary,
  RunMeta,
  RunSummary,
  TaskError,
  TaskOutcome,
  TaskRequest,
  TaskSummary,
  TaskTimings,
  Totals,
  VideoFile,
} from './types.js';
export type { WrittenReports } from './write.js';
export { REPORT_FILES, writeReports } from './write.js';
