// Live heap at its peak by allocation site, from _heap-peak-hook.mjs, with built JS mapped to the TypeScript.
//   node bench/_heapprofile.mjs FILE [--top 15]
import { readFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { where } from './_cpuprofile.mjs';

export async function summarizeHeapProfile(file, top = 15) {
  const { peakHeapUsed, profile } = JSON.parse(await readFile(file, 'utf8'));
  const sites = new Map();
  const stack = [profile.head];
  while (stack.length) {
    const node = stack.pop();
    const cf = node.callFrame;
    if (node.selfSize > 0) {
      const key = `${cf.functionName || '(anonymous)'} ${await where(cf.url, cf.lineNumber, cf.columnNumber)}`;
      sites.set(key, (sites.get(key) ?? 0) + node.selfSize);
    }
    stack.push(...node.children);
  }
  const sampled = [...sites.values()].reduce((a, b) => a + b, 0);
  return {
    peakHeapUsedMB: Number((peakHeapUsed / 2 ** 20).toFixed(1)),
    sampledLiveMB: Number((sampled / 2 ** 20).toFixed(1)),
    sites: [...sites]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([what, bytes]) => ({ what, MB: Number((bytes / 2 ** 20).toFixed(1)) })),
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { top: { type: 'string', default: '15' } },
  });
  const s = await summarizeHeapProfile(positionals[0], Number(values.top));
  process.stdout.write(
    `peak heapUsed ${s.peakHeapUsedMB} MB; sampled live at that peak ${s.sampledLiveMB} MB\n`,
  );
  for (const x of s.sites) process.stdout.write(`  ${String(x.MB).padStart(6)} MB  ${x.what}\n`);
}
