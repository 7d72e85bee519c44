import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** This package's version (from its package.json; the same path from src/ and dist/). */
export const TOOL_VERSION: string = (require('../package.json') as { version: string }).version;
