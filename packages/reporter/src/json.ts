import type { RunSummary } from './types.js';

/**
 * `report.json`: the model itself, serialized with two-space indentation and a final newline. The top-level
 * keys are written in schema order so that `schemaVersion` is the first thing a reader sees.
 */
export function renderJson(summary: RunSummary): string {
  const { run, totals, film, tasks } = summary;
  return `${JSON.stringify({ schemaVersion: 1, run, totals, film, tasks }, null, 2)}\n`;
}
