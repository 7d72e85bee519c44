import { readFileSync } from 'node:fs';

const cache = new Map<string, string>();

/**
 * A file of the package's `assets/` folder (the page's CSS and script). They stay real files, not strings in
 * TypeScript, so that they read as CSS and JavaScript; `tsc` does not copy them, so they are read from the
 * package root, which is one level above both `src/` and `dist/`.
 */
export function asset(name: string): string {
  let text = cache.get(name);
  if (text === undefined) {
    text = readFileSync(new URL(`../assets/${name}`, import.meta.url), 'utf8');
    cache.set(name, text);
  }
  return text;
}
