// Preloaded (`node --import`) into a measured child: on exit, writes the process's own resource usage (CPU
// time in µs, peak RSS in KiB) to $BENCH_USAGE_FILE, so the harness reports that process and nothing else.
import { writeFileSync } from 'node:fs';

const { env } = process;
const file = env.BENCH_USAGE_FILE;
if (file) {
  process.on('exit', () => {
    try {
      writeFileSync(file, JSON.stringify(process.resourceUsage()));
    } catch {}
  });
}
