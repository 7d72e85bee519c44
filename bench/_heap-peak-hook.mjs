// Preloaded (`node --import`) to see what fills the heap at its peak: samples allocations (V8's sampling heap
// profiler) and, each time heapUsed reaches a new high, keeps the profile of what is live; on exit writes the
// last one to $BENCH_HEAP_PROFILE (summarize it with _heapprofile.mjs).
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';

const { env } = process;
const out = env.BENCH_HEAP_PROFILE;
if (out) {
  const session = new Session();
  session.connect();
  session.post('HeapProfiler.startSampling', { samplingInterval: 8192 });
  let peak = 0;
  let profile;
  setInterval(() => {
    const used = process.memoryUsage().heapUsed;
    if (used <= peak) return;
    peak = used;
    session.post('HeapProfiler.getSamplingProfile', (error, result) => {
      if (!error) profile = result.profile;
    });
  }, 50).unref();
  process.on('exit', () => {
    if (profile) writeFileSync(out, JSON.stringify({ peakHeapUsed: peak, profile }));
  });
}
