import { resolve } from 'node:path';
import { isHttpUrl } from '@flf2v/core/rules';
import type { FileLocator, Located } from './locate.js';
import { type MeasureSettings, measureFrame } from './measure.js';
import type { ProblemKind } from './problems.js';
import type { FrameRef } from './types.js';

/** Provider limits a frame is checked against (API.md "Limits commonly enforced"). */
export const DEFAULT_IMAGE_MAX_BYTES = 20 * 1024 * 1024;

/**
 * One distinct frame (a file by absolute path, or a URL), shared by every task that uses it, so each file is
 * read, hashed and measured once however many rows name it.
 */
export interface FrameEntry {
  /** As first written in the manifest. */
  display: string;
  /** Set once measured (files) or at once (URLs). */
  ref?: FrameRef;
  /** Set when the file cannot be used. */
  problem?: { kind: ProblemKind; text: string };
  /** Set when the file was found under another spelling of its path (a warning, reported like a problem). */
  note?: { kind: ProblemKind; text: string };
  /** The problem was reported (once, at the first task that uses the frame). */
  reported?: boolean;
}

type Problem = { problem: { kind: ProblemKind; text: string } };

const SCHEME = /^[a-z][a-z0-9+.-]+:\/\//i;

function notFound(display: string, located: Extract<Located, { found: false }>): Problem {
  if (located.kind === 'not-a-file')
    return { problem: { kind: 'frame-missing', text: `${display} is not a file (${located.path})` } };
  const hint = located.hint === undefined ? '' : `; ${located.hint}`;
  return {
    problem: {
      kind: 'frame-missing',
      text: `frame file not found: ${display} (looked for ${located.path})${hint}`,
    },
  };
}

/**
 * Resolves frame references and measures each distinct file once (cached by absolute path), a few at a time.
 */
export class FrameStore {
  private readonly byWriting = new Map<string, FrameEntry>();
  private readonly byPath = new Map<string, FrameEntry>();
  private readonly pending: Promise<void>[] = [];
  private readonly queue: (() => Promise<void>)[] = [];
  private active = 0;

  /**
   * `settings` is called when the first frame is measured, not before: a job file's `prepare:` is read before
   * any of its frames.
   */
  constructor(
    private readonly locator: FileLocator,
    private readonly settings: () => MeasureSettings,
    private readonly concurrency = 8,
  ) {}

  /** A frame entry for a value as written (already a non-empty string), or why it cannot be one. */
  resolve(value: string, baseDir: string): FrameEntry | string {
    const cacheKey = `${baseDir}\u0000${value}`;
    const known = this.byWriting.get(cacheKey);
    if (known) return known;
    let entry: FrameEntry;
    if (/^data:/i.test(value)) {
      return 'expected a file path or an http(s) URL, got a data: URL (save the image to a file and give its path)';
    }
    if (SCHEME.test(value)) {
      if (!isHttpUrl(value)) return `expected a file path or an http(s) URL, got ${JSON.stringify(value)}`;
      entry = { display: value, ref: { kind: 'url', url: value } };
    } else {
      const path = resolve(baseDir, value);
      entry = this.byPath.get(path) ?? this.load(baseDir, path, value);
    }
    this.byWriting.set(cacheKey, entry);
    return entry;
  }

  /** Resolves when every frame resolved so far has been measured. */
  async settled(): Promise<void> {
    await Promise.all(this.pending);
  }

  private load(baseDir: string, path: string, display: string): FrameEntry {
    const entry: FrameEntry = { display };
    this.byPath.set(path, entry);
    this.pending.push(
      new Promise<void>((done) => {
        this.queue.push(async () => {
          try {
            const located = await this.locator.locate(baseDir, display);
            if (located.found && located.note)
              entry.note = { kind: 'path-spelling', text: `${display}: ${located.note}` };
            const measured = located.found
              ? await measureFrame(located.path, display, this.settings(), located.size)
              : notFound(display, located);
            if ('ref' in measured) entry.ref = measured.ref;
            else entry.problem = measured.problem;
          } catch (error) {
            const reason = error instanceof Error ? error.message : String(error);
            entry.problem = { kind: 'frame-missing', text: `cannot read ${display}: ${reason}` };
          } finally {
            done();
          }
        });
        this.pump();
      }),
    );
    return entry;
  }

  private pump(): void {
    while (this.active < this.concurrency && this.queue.length > 0) {
      const job = this.queue.shift()!;
      this.active++;
      void job().finally(() => {
        this.active--;
        this.pump();
      });
    }
  }
}
