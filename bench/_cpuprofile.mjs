// Top hot spots of a V8 .cpuprofile (from `node --cpu-prof`): self time per function and per file, with
// positions in the built JS mapped back to the TypeScript sources through the packages' source maps.
//   node bench/_cpuprofile.mjs FILE.cpuprofile [--top 25]
import { readFile } from 'node:fs/promises';
import { SourceMap } from 'node:module';
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { ROOT } from './_lib.mjs';

const maps = new Map();
async function sourceMapFor(url) {
  if (!url.startsWith('file://')) return undefined;
  if (!maps.has(url)) {
    maps.set(
      url,
      readFile(`${fileURLToPath(url)}.map`, 'utf8').then(
        (text) => new SourceMap(JSON.parse(text)),
        () => undefined,
      ),
    );
  }
  return maps.get(url);
}

/** `file:line` (1-based) of a profile position, in TypeScript when a source map says so. */
export async function where(url, line, column) {
  if (!url) return '(native)';
  const map = await sourceMapFor(url);
  let path = url.startsWith('file://') ? fileURLToPath(url) : url;
  let at = line + 1;
  if (map) {
    const entry = map.findEntry(line, Math.max(0, column));
    if (entry?.originalSource) {
      const src = entry.originalSource.startsWith('file://')
        ? fileURLToPath(entry.originalSource)
        : resolve(dirname(path), entry.originalSource);
      path = src;
      at = entry.originalLine + 1;
    }
  }
  const rel = relative(ROOT, path);
  return `${rel.startsWith('..') ? path.replace(/.*node_modules\/(\.pnpm\/)?/, 'node_modules/') : rel}:${at}`;
}

function bucketOf(location) {
  if (location === '(native)') return 'native / GC / idle';
  if (location.startsWith('node:')) return location.split(':').slice(0, 2).join(':');
  if (location.includes('node_modules/'))
    return location.replace(/^node_modules\/([^/]+(\/[^/]+)?).*$/, '$1');
  return location.replace(/:\d+$/, '');
}

/**
 * Areas of the run, tried from the innermost frame of a sample outwards: the first frame that matches decides.
 * A sample with no matching frame is 'other'; the GC and idle are their own areas.
 */
const AREAS = [
  ['download to disk (core download.ts, _dirsync.ts)', /packages\/core\/(src|dist)\/(download|_dirsync)\./],
  ['state journal (batch state/)', /packages\/batch\/(src|dist)\/state\//],
  ['reports (reporter, run/summary.ts)', /packages\/reporter\/|packages\/batch\/(src|dist)\/run\/summary\./],
  ['manifest and plan (batch manifest/)', /packages\/batch\/(src|dist)\/manifest\//],
  ['HTTP client (undici, core)', /node_modules\/.*undici|packages\/core\//],
  ['pipeline (runner, limiter, planner, p-queue)', /packages\/batch\/(src|dist)\/run\/|p-queue/],
];

export async function summarizeProfile(file, top = 25) {
  const profile = JSON.parse(await readFile(file, 'utf8'));
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  /** The nearest frame with a script behind it: where a native call or the GC was entered from. */
  const jsCaller = (id) => {
    for (let at = parent.get(id); at !== undefined; at = parent.get(at)) {
      const cf = byId.get(at).callFrame;
      if (cf.url && !cf.url.startsWith('node:')) return cf;
    }
    return undefined;
  };
  const selfUs = new Map();
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i];
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  const totalUs = profile.endTime - profile.startTime;
  const fns = new Map();
  const files = new Map();
  const natives = new Map();
  let idleUs = 0;
  for (const [id, us] of selfUs) {
    const node = byId.get(id);
    const cf = node.callFrame;
    if (cf.functionName === '(idle)') {
      idleUs += us;
      continue;
    }
    const location = await where(cf.url, cf.lineNumber, cf.columnNumber);
    const name = cf.functionName || '(anonymous)';
    const key = `${name} ${location}`;
    fns.set(key, (fns.get(key) ?? 0) + us);
    const bucket = cf.url ? bucketOf(location) : name;
    files.set(bucket, (files.get(bucket) ?? 0) + us);
    if (!cf.url || cf.url.startsWith('node:')) {
      // Native and Node-internal time, charged to the project (or package) code that called into it.
      const caller = jsCaller(id);
      const from = caller
        ? `${caller.functionName || '(anonymous)'} ${await where(caller.url, caller.lineNumber, caller.columnNumber)}`
        : '(no script caller)';
      const k = `${name} ← ${from}`;
      natives.set(k, (natives.get(k) ?? 0) + us);
    }
  }
  // Inclusive (synchronous) time of project functions: each sample counts once for every distinct project
  // function on its stack. Async work splits across stacks, so this is what each function costs per call
  // chain, not per await.
  const inclusive = new Map();
  const projectFrame = new Map();
  for (const [id, us] of selfUs) {
    if (byId.get(id).callFrame.functionName === '(idle)') continue;
    const seen = new Set();
    for (let at = id; at !== undefined; at = parent.get(at)) {
      const cf = byId.get(at).callFrame;
      if (!cf.url.includes('/packages/')) continue;
      if (!projectFrame.has(at))
        projectFrame.set(
          at,
          `${cf.functionName || '(anonymous)'} ${await where(cf.url, cf.lineNumber, cf.columnNumber)}`,
        );
      const k = projectFrame.get(at);
      if (seen.has(k)) continue;
      seen.add(k);
      inclusive.set(k, (inclusive.get(k) ?? 0) + us);
    }
  }
  const areas = new Map();
  for (const [id, us] of selfUs) {
    const cf0 = byId.get(id).callFrame;
    if (cf0.functionName === '(idle)') continue;
    let area = cf0.functionName === '(garbage collector)' ? 'garbage collector' : undefined;
    for (let at = id; !area && at !== undefined; at = parent.get(at)) {
      const url = byId.get(at).callFrame.url;
      area = AREAS.find(([, re]) => re.test(url))?.[0];
    }
    area ??= 'other (Node internals, start-up, microtask plumbing)';
    areas.set(area, (areas.get(area) ?? 0) + us);
  }
  const busyUs = totalUs - idleUs;
  const rank = (m) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([what, us]) => ({
        what,
        selfMs: Math.round(us / 1000),
        pctOfBusy: Number(((us / busyUs) * 100).toFixed(1)),
      }));
  return {
    file,
    wallMs: Math.round(totalUs / 1000),
    busyMs: Math.round(busyUs / 1000),
    idleMs: Math.round(idleUs / 1000),
    areas: rank(areas),
    functions: rank(fns),
    files: rank(files),
    nativeByCaller: rank(natives),
    projectInclusive: rank(inclusive),
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { top: { type: 'string', default: '25' } },
  });
  const s = await summarizeProfile(positionals[0], Number(values.top));
  process.stdout.write(`${s.file}: ${s.wallMs} ms wall, ${s.busyMs} ms busy, ${s.idleMs} ms idle\n`);
  process.stdout.write('\nbusy time by area:\n');
  for (const f of s.areas)
    process.stdout.write(
      `  ${String(f.selfMs).padStart(6)} ms ${String(f.pctOfBusy).padStart(5)}%  ${f.what}\n`,
    );
  process.stdout.write('\nself time by function:\n');
  for (const f of s.functions)
    process.stdout.write(
      `  ${String(f.selfMs).padStart(6)} ms ${String(f.pctOfBusy).padStart(5)}%  ${f.what}\n`,
    );
  process.stdout.write('\nnative / node-internal time by the script that called it:\n');
  for (const f of s.nativeByCaller)
    process.stdout.write(
      `  ${String(f.selfMs).padStart(6)} ms ${String(f.pctOfBusy).padStart(5)}%  ${f.what}\n`,
    );
  process.stdout.write('\ninclusive synchronous time of project functions:\n');
  for (const f of s.projectInclusive)
    process.stdout.write(
      `  ${String(f.selfMs).padStart(6)} ms ${String(f.pctOfBusy).padStart(5)}%  ${f.what}\n`,
    );
  process.stdout.write('\nself time by file / package:\n');
  for (const f of s.files)
    process.stdout.write(
      `  ${String(f.selfMs).padStart(6)} ms ${String(f.pctOfBusy).padStart(5)}%  ${f.what}\n`,
    );
}
