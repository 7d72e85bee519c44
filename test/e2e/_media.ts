/// <reference lib="dom" />
// (DOM types for the callbacks that playwright runs inside the page.)
import { execFileSync } from 'node:child_process';
import type { Page } from 'playwright-core';

/** Seconds, as ffprobe reads a video's container. */
export function durationOf(file: string): number {
  return Number(
    execFileSync('ffprobe', [
      '-v',
      'error',
      '-show_entries',
      'format=duration',
      '-of',
      'csv=p=0',
      file,
    ]).toString(),
  );
}

/** What ffmpeg complains about while decoding the whole video (nothing: it plays to the end). */
export function decodeErrors(file: string): string {
  return execFileSync('ffmpeg', ['-v', 'error', '-i', file, '-f', 'null', '-']).toString();
}

export interface Played {
  error: number | null;
  readyState: number;
  /** Seconds it played in 1.2 s of wall time. */
  advanced: number;
  size: [number, number];
  /** Whole seconds. */
  duration: number;
}

/** Play every `<video>` matching `selector` (muted, together) for 1.2 s and say how each did. */
export function playAll(page: Page, selector: string): Promise<Played[]> {
  return page.$$eval(selector, (videos) =>
    Promise.all(
      videos.map(async (v) => {
        const video = v as HTMLVideoElement;
        video.muted = true;
        await video.play();
        const start = video.currentTime;
        await new Promise((resolve) => setTimeout(resolve, 1200));
        return {
          error: video.error?.code ?? null,
          readyState: video.readyState,
          advanced: video.currentTime - start,
          size: [video.videoWidth, video.videoHeight] as [number, number],
          duration: Math.round(video.duration),
        };
      }),
    ),
  );
}
