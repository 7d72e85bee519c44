import { xmlAttr as x, xmlText } from './_escape.js';
import { taskMs, wallMs } from './_time.js';
import type { RunSummary, TaskSummary } from './types.js';

/**
 * `report.junit.xml` for CI dashboards: one testsuite for the run, one testcase per task (classname = job
 * name, name = task id). Failed tasks carry a `<failure>` with the error code as its type; pending and unknown
 * tasks are `<skipped>` (they are not known to have failed). Times are seconds, from the task's timings.
 */
export function renderJunit(summary: RunSummary): string {
  const { run, tasks } = summary;
  const failures = tasks.filter((t) => t.status === 'failed').length;
  const skipped = tasks.filter((t) => t.status === 'pending' || t.status === 'unknown').length;
  const suite = [
    `name="${x(run.name)}"`,
    `tests="${tasks.length}"`,
    `failures="${failures}"`,
    'errors="0"',
    `skipped="${skipped}"`,
    `time="${seconds(wallMs(run))}"`,
    `timestamp="${x(run.startedAt)}"`,
  ].join(' ');
  const lines = ['<?xml version="1.0" encoding="UTF-8"?>', `<testsuites ${suite}>`, `  <testsuite ${suite}>`];
  for (const task of tasks) lines.push(testcase(run.name, task));
  lines.push('  </testsuite>', '</testsuites>', '');
  return lines.join('\n');
}

function testcase(job: string, task: TaskSummary): string {
  const open = `    <testcase classname="${x(job)}" name="${x(task.id)}" time="${seconds(taskMs(task.timings))}"`;
  const body = [...verdict(task), `      <system-out>${xmlText(details(task))}</system-out>`];
  return [`${open}>`, ...body, '    </testcase>'].join('\n');
}

function verdict(task: TaskSummary): string[] {
  switch (task.status) {
    case 'succeeded':
      return [];
    case 'failed': {
      const code = task.error?.code ?? 'E_UNKNOWN';
      const message = task.error?.message ?? 'failed without a recorded error';
      const retryable = task.error?.retryable ? ' (retryable)' : '';
      return [
        `      <failure type="${x(code)}" message="${x(message)}">${xmlText(`${code}: ${message}${retryable}`)}</failure>`,
      ];
    }
    case 'pending':
      return [`      <skipped message="${x(`pending (${task.stage ?? 'not finished'})`)}"/>`];
    case 'unknown':
      return [
        `      <skipped message="${x('submission outcome unknown: not re-sent without --resubmit-unknown')}"/>`,
      ];
  }
}

function details(task: TaskSummary): string {
  const lines = [
    `key: ${task.key}`,
    `status: ${task.status}${task.stage ? ` (${task.stage})` : ''}`,
    `provider task: ${task.taskId ?? '-'}`,
    `attempts: ${task.attempts}, submissions: ${task.submissions}`,
  ];
  for (const video of task.videos)
    lines.push(`video: ${video.path} (${video.bytes} bytes, sha256 ${video.sha256})`);
  return lines.join('\n');
}

function seconds(millis: number | undefined): string {
  return ((millis ?? 0) / 1000).toFixed(3);
}
