/**
 * `out: runs/nightly/{date}` → `runs/nightly/2026-02-02`. `{date}` is YYYY-MM-DD and `{time}` HHmmss, both in
 * the job's time zone (the machine's when it has none), so a nightly run lands in the directory of its own day.
 */
export function expandOutTemplate(template: string, at: Date, timeZone?: string): string {
  const parts = new Intl.DateTimeFormat('en-CA', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(at);
  const part = (type: Intl.DateTimeFormatPartTypes) => parts.find((p) => p.type === type)?.value ?? '00';
  const date = `${part('year')}-${part('month')}-${part('day')}`;
  const time = `${part('hour')}${part('minute')}${part('second')}`;
  return template.replaceAll('{date}', date).replaceAll('{time}', time);
}
