// `pnpm demo`: the demo storyboard rehearsed on the embedded simulator (no API key), then, where ffmpeg is
// installed, its shots joined into runs/demo/film.mp4. Without ffmpeg the film is skipped with a note and the
// demo still succeeds: the run's exit code is the demo's.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const cli = fileURLToPath(new URL('../packages/batch/bin/flf2v.js', import.meta.url));
const flf2v = (args, output = 'inherit') =>
  spawnSync(process.execPath, [cli, ...args], { stdio: ['ignore', output, output], encoding: 'utf8' });

const run = flf2v(['run', 'jobs/demo/demo.yaml', '--simulator', '--out', 'runs/demo']);
if (run.status !== 0) process.exit(run.status ?? 1);

const film = flf2v(['film', 'runs/demo'], 'pipe');
if (film.status === 0) {
  process.stderr.write(film.stderr);
  process.stdout.write(film.stdout);
} else if (film.stderr.includes('[E_FFMPEG_MISSING]')) {
  // ffmpeg's absence is no failure of the demo: say so, and how to make the film later.
  process.stderr.write(
    `demo: the film was skipped. ${film.stderr.replace(/^flf2v: /, '').trim()}\nThen: pnpm exec flf2v film runs/demo\n`,
  );
} else {
  process.stderr.write(film.stderr);
  process.exit(film.status ?? 1);
}
