#!/usr/bin/env node
// Thin launcher so the bin exists before the first build; the CLI itself is compiled to dist/.
import { existsSync } from 'node:fs';

// Downloads end in fsyncs, which run on libuv's threadpool (4 threads by default): give them room. Must be set
// before the pool's first use; an explicit setting wins.
process.env.UV_THREADPOOL_SIZE ??= '16';

const cli = new URL('../dist/cli.js', import.meta.url);
if (!existsSync(cli)) {
  process.stderr.write('flf2v: not built yet — run `pnpm build` at the repository root first.\n');
  process.exit(3);
}
const { main } = await import(cli.href);
await main(process.argv);
