import { readFileSync } from 'node:fs';

/**
 * The JSON Schema (draft 2020-12) of `report.json`, as shipped in `assets/report.schema.json`. Read from the
 * package's assets (not compiled in) so that the file tools point at and the object code validates with are one.
 */
export const reportSchema: Readonly<Record<string, unknown>> = JSON.parse(
  readFileSync(new URL('../assets/report.schema.json', import.meta.url), 'utf8'),
);
