import { asset } from '../_assets.js';

/**
 * The files of report.html's one inline script, in order: helpers first, the task table last. They are separate
 * files to stay small and readable; the page joins them inside one function scope (strict mode, no globals), so
 * a later part uses an earlier part's functions directly.
 */
const PARTS = ['report.dom.js', 'report.refresh.js', 'report.client.js'] as const;

let joined: string | undefined;

/** The page's script text (its CSP hash is taken over exactly this text). */
export function pageScript(): string {
  joined ??= `(() => {\n'use strict';\n${PARTS.map((name) => asset(name)).join('\n')}})();\n`;
  return joined;
}
