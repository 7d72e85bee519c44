/** Figures as people read them in the report: `1,234`, `1 h 02 min`, `4.2 MB`, `98.5%`. */

export function int(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

export function duration(millis: number | undefined): string {
  if (millis === undefined) return '–';
  const s = Math.round(millis / 1000);
  if (s < 60) return millis < 10_000 && millis % 1000 !== 0 ? `${(millis / 1000).toFixed(1)} s` : `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${String(s % 60).padStart(2, '0')} s`;
  const h = Math.floor(m / 60);
  return `${h} h ${String(m % 60).padStart(2, '0')} min`;
}

/** A clock offset from the start of the run: `4:05`, `1:02:03`. */
export function clock(millis: number): string {
  const s = Math.round(millis / 1000);
  const h = Math.floor(s / 3600);
  const mm = String(Math.floor((s % 3600) / 60));
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${mm.padStart(2, '0')}:${ss}` : `${mm}:${ss}`;
}

export function bytes(n: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = n;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return `${unit === 0 ? value : value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

export function percent(part: number, whole: number): string {
  if (whole === 0) return '–';
  const p = (100 * part) / whole;
  return `${p === 100 || p === 0 ? p : p.toFixed(1)}%`;
}
