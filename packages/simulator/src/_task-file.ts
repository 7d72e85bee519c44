import { appendFileSync, closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Task } from './_tasks.js';

/**
 * Accepted tasks as JSON lines, so that a restarted simulator takes back the tasks its clients still hold ids
 * for. Each line is appended with one write as the task is accepted; a line cut short by a kill is skipped
 * when the file is read back. The frames' hashes and the duration are kept, not the frames: a restored task
 * serves its rendered clip when the render cache has it (or `uploadDir` has both frames), else the fixture.
 */

interface TaskLine {
  id: string;
  key: string;
  submittedAt: number;
  pendingMs: number;
  runningMs: number;
  outcome: 'COMPLETED' | 'FAILED';
  failMessage?: string;
  numberOfVideos: number;
  /** Absent in lines written before renders were kept. */
  duration?: number;
  frames?: [string, string];
}

export class TaskFile {
  private fd: number | undefined;

  private constructor(fd: number) {
    this.fd = fd;
  }

  /** Open (creating it and its directory if needed) and read back the tasks it holds, oldest first. */
  static open(path: string): { file: TaskFile; tasks: Task[] } {
    mkdirSync(dirname(path), { recursive: true });
    let text = '';
    try {
      text = readFileSync(path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    const tasks: Task[] = [];
    for (const line of text.split('\n')) {
      const task = parseLine(line);
      if (task) tasks.push(task);
    }
    tasks.sort((a, b) => a.submittedAt - b.submittedAt);
    const fd = openSync(path, 'a');
    // A line cut short by a kill must not run into the next one.
    if (text.length > 0 && !text.endsWith('\n')) appendFileSync(fd, '\n');
    return { file: new TaskFile(fd), tasks };
  }

  append(task: Task): void {
    if (this.fd === undefined) return;
    const line: TaskLine = {
      id: task.id,
      key: task.key,
      submittedAt: task.submittedAt,
      pendingMs: task.pendingMs,
      runningMs: task.runningMs,
      outcome: task.outcome,
      ...(task.failMessage === undefined ? {} : { failMessage: task.failMessage }),
      numberOfVideos: task.numberOfVideos,
      duration: task.duration,
      ...(task.frames === undefined ? {} : { frames: task.frames }),
    };
    appendFileSync(this.fd, `${JSON.stringify(line)}\n`);
  }

  close(): void {
    if (this.fd === undefined) return;
    closeSync(this.fd);
    this.fd = undefined;
  }
}

function parseLine(line: string): Task | undefined {
  if (line.trim() === '') return undefined;
  let v: Partial<TaskLine>;
  try {
    v = JSON.parse(line) as Partial<TaskLine>;
  } catch {
    return undefined;
  }
  const finite = (n: unknown): n is number => typeof n === 'number' && Number.isFinite(n) && n >= 0;
  if (
    typeof v.id !== 'string' ||
    typeof v.key !== 'string' ||
    !finite(v.submittedAt) ||
    !finite(v.pendingMs) ||
    !finite(v.runningMs) ||
    (v.outcome !== 'COMPLETED' && v.outcome !== 'FAILED') ||
    !finite(v.numberOfVideos)
  ) {
    return undefined;
  }
  return {
    id: v.id,
    key: v.key,
    submittedAt: v.submittedAt,
    pendingMs: v.pendingMs,
    runningMs: v.runningMs,
    admittedAt: Number.NaN,
    endAt: Number.NaN,
    outcome: v.outcome,
    failMessage: typeof v.failMessage === 'string' ? v.failMessage : undefined,
    numberOfVideos: v.numberOfVideos,
    duration: finite(v.duration) ? v.duration : 5,
    frames: isHashPair(v.frames) ? v.frames : undefined,
  };
}

function isHashPair(v: unknown): v is [string, string] {
  return (
    Array.isArray(v) && v.length === 2 && v.every((h) => typeof h === 'string' && /^[0-9a-f]{64}$/.test(h))
  );
}
