import { access } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { type FilmSummary, type TaskSummary, writeReports } from '@flf2v/reporter';
import { BatchError } from '../errors.js';
import { EXIT } from '../exit-codes.js';
import { joinClips } from '../film/join.js';
import { writeFilmRecord } from '../film/record.js';
import { filmOrder } from '../film/shots.js';
import { findFfmpeg } from '../film/tools.js';
import { shotName, takeField, takeOf } from '../manifest/take.js';
import { onStopSignals } from '../util/stop-signals.js';
import { summaryFromDir } from './_state-summary.js';

/**
 * `flf2v film DIR [--out FILE]`: join the shots of the storyboard run in DIR, in order, into one MP4 (default
 * DIR/film.mp4), record it in DIR/film.json and show it in the reports. Read-only on the run's state. Each shot
 * is its chosen take (`flf2v choose`; take 1 until another is chosen), and a take's video is its first when it
 * has several.
 *
 * Throws `E_USAGE` (not a run directory, no storyboard), `E_FILM_INCOMPLETE` (every shot without a usable
 * video, named), `E_FFMPEG_MISSING`, `E_CLIP_INVALID`, `E_FFMPEG_FAILED`, `E_LOCAL_IO`, `E_INTERRUPTED`.
 */
export async function filmCommand(dir: string, opts: Record<string, unknown>): Promise<number> {
  const { summary, provider } = await summaryFromDir(dir);
  const outDir = summary.run.outDir;
  const { shots, leftOut } = filmOrder(summary.tasks.filter((t) => t.chosen !== false));
  if (shots.length === 0) throw new BatchError('E_USAGE', `${dir} has no tasks: there is nothing to join`);
  if (shots.length === 1 && leftOut.length > 0) {
    throw new BatchError(
      'E_USAGE',
      `the tasks of ${dir} are not a storyboard: none starts on the frame another ends on, so they have no order to join them in`,
    );
  }
  // A rehearsal is finished on the embedded simulator it ran on, never sent to the provider by a pasted hint.
  const rehearsal = provider?.kind === 'simulator' && provider.baseUrl === undefined ? ' --simulator' : '';
  const clips = await clipsOf(shots, outDir, dir, summary.run.manifest, rehearsal);
  const tools = await findFfmpeg();

  const out = typeof opts.out === 'string' ? resolve(opts.out) : join(outDir, 'film.mp4');
  const abort = new AbortController();
  const stopListening = onStopSignals({ stop: () => abort.abort(), now: () => abort.abort() });
  let joined: Awaited<ReturnType<typeof joinClips>>;
  try {
    joined = await joinClips(
      clips.map((c) => join(outDir, c.path)),
      out,
      { tools, signal: abort.signal },
    );
  } finally {
    stopListening();
  }
  const film: FilmSummary = {
    path: runRelative(outDir, out),
    createdAt: new Date().toISOString(),
    duration: round(joined.duration),
    bytes: joined.bytes,
    sha256: joined.sha256,
    method: joined.method,
    shots: clips.map((c, i) => ({ ...c, duration: round(joined.clips[i]!.duration) })),
  };
  await writeFilmRecord(outDir, film);
  await writeReports(outDir, { ...summary, film });

  const repeated = repeatedPair(shots);
  if (repeated) {
    process.stderr.write(
      `flf2v film: warning: ${shotName(repeated[0])} and ${shotName(repeated[1])} both go from ${repeated[0].request.image} to ${repeated[0].request.last_image}: is ${dir} a storyboard? The shots were joined in the order their frames chain\n`,
    );
  }
  for (const t of leftOut) {
    process.stderr.write(
      `flf2v film: left out ${shotName(t)} (${t.request.image} → ${t.request.last_image}): it does not continue the storyboard's chain of frames (a task of an earlier version of the manifest?)\n`,
    );
  }
  process.stderr.write(
    `flf2v film: ${clips.length} shot(s), ${film.duration.toFixed(1)} s, ${joined.method === 'copy' ? 'joined without re-encoding' : "re-encoded to the first shot's format"}; recorded in film.json and the report\n`,
  );
  const shown = relative(process.cwd(), out);
  process.stdout.write(`${shown.startsWith('..') || isAbsolute(shown) ? out : shown}\n`);
  return EXIT.OK;
}

/** A shot of the film before its clip is probed. */
type Clip = Omit<FilmSummary['shots'][number], 'duration'>;

/** Each shot's video, or `E_FILM_INCOMPLETE` naming every shot that has none (and what to do about it). */
async function clipsOf(
  shots: TaskSummary[],
  outDir: string,
  dir: string,
  manifest: string,
  rehearsal: string,
): Promise<Clip[]> {
  const clips: Clip[] = [];
  const problems: string[] = [];
  for (const shot of shots) {
    const video = shot.videos[0];
    if (shot.status !== 'succeeded' || !video) {
      problems.push(`${shotName(shot)}: ${whyNoVideo(shot)}`);
      continue;
    }
    try {
      await access(join(outDir, video.path));
    } catch {
      problems.push(
        `${shotName(shot)}: its video ${video.path} is missing from ${dir} (the run fetches it again)`,
      );
      continue;
    }
    if (shot.videos.length > 1) {
      process.stderr.write(
        `flf2v film: ${shotName(shot)} has ${shot.videos.length} videos; the film uses the first (${video.path})\n`,
      );
    }
    clips.push({
      id: shot.id,
      key: shot.key,
      ...takeField(takeOf(shot)),
      path: video.path,
      sha256: video.sha256,
    });
  }
  if (problems.length > 0) {
    const resume = manifest ? `flf2v run ${manifest} --out ${dir}${rehearsal}` : 'the run command again';
    throw new BatchError(
      'E_FILM_INCOMPLETE',
      `the film needs every shot of the storyboard, and ${problems.length} of ${shots.length} have no video:\n  ${problems.join('\n  ')}\nFinish them with \`${resume}\` (add --retry-failed for failed shots), then make the film again`,
    );
  }
  return clips;
}

function whyNoVideo(shot: TaskSummary): string {
  switch (shot.status) {
    case 'failed':
      return `failed${shot.error ? ` (${shot.error.code}: ${shot.error.message})` : ''}`;
    case 'unknown':
      return 'its submission may or may not have reached the provider (unknown; --resubmit-unknown sends it again)';
    case 'pending':
      return `not finished yet (${shot.stage ?? 'pending'})`;
    default:
      return 'no video was downloaded';
  }
}

/** `out` relative to the run directory when it is inside it, else absolute. */
function runRelative(outDir: string, out: string): string {
  const rel = relative(outDir, out);
  return rel && !rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel)
    ? rel.split(sep).join('/')
    : out;
}

function round(seconds: number): number {
  return Math.round(seconds * 1000) / 1000;
}

/** Two shots of the film with the same first and last frame — a sheet of independent tasks, seldom a storyboard. */
function repeatedPair(shots: TaskSummary[]): [TaskSummary, TaskSummary] | undefined {
  const seen = new Map<string, TaskSummary>();
  for (const shot of shots) {
    const pair = `${shot.request.image}\u0000${shot.request.last_image}`;
    const before = seen.get(pair);
    if (before) return [before, shot];
    seen.set(pair, shot);
  }
  return undefined;
}
