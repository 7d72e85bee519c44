import { resolve } from 'node:path';
import { isHttpUrl, showValue } from '@flf2v/core/rules';
import { Cron } from 'croner';
import type { LoadContext } from './_context.js';
import { didYouMean } from './_suggest.js';
import { kindOf, type YamlEntry, type YamlFile } from './_yaml.js';
import { unknownKeyText } from './fields.js';
import { checkId } from './ids.js';
import { type PrepareOptions, prepareOptionProblem } from './prepare/options.js';
import type { JobConfig, JobLimits } from './types.js';

/** The job-level settings of a YAML job file (everything but its tasks and defaults). */

const LIMIT_KEYS = { submit_rpm: 'submitRpm', query_rpm: 'queryRpm', max_in_flight: 'maxInFlight' } as const;
const NOTIFY_KEYS = ['webhook'];
export const OUT_PLACEHOLDERS = ['{date}', '{time}'];
const CRON_NICKNAMES = ['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly'];

export type JobSettingKey =
  | 'version'
  | 'name'
  | 'limits'
  | 'schedule'
  | 'timezone'
  | 'out'
  | 'notify'
  | 'prepare';
export const JOB_SETTING_KEYS: readonly JobSettingKey[] = [
  'version',
  'name',
  'limits',
  'schedule',
  'timezone',
  'out',
  'notify',
  'prepare',
];
const PREPARE_KEYS = { max_side_px: 'maxSidePx', max_bytes: 'maxBytes' } as const;

function text(yaml: YamlFile, entry: YamlEntry): string | undefined {
  const value = yaml.text(entry.value);
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}

/** Checks one job setting and stores it on `job`; problems go to the sink. */
export function readJobSetting(
  ctx: LoadContext,
  yaml: YamlFile,
  entry: YamlEntry & { key: JobSettingKey },
  job: JobConfig,
  jobDir: string,
): void {
  const { sink } = ctx;
  const loc = yaml.at(entry.value, entry.key, entry.keyNode);
  const found = kindOf(yaml, entry.value);
  switch (entry.key) {
    case 'version': {
      if (yaml.value(entry.value) !== 1) {
        sink.error('unsupported-version', loc, `expected 1 (the only job file version so far), got ${found}`);
      }
      return;
    }
    case 'name': {
      const check = checkId(yaml.text(entry.value));
      if (check.ok) job.name = check.id;
      else
        sink.error(
          'invalid-value',
          loc,
          `expected a job name that is ${check.expected.replace(/^a name (that is )?/, '')}, got ${found}`,
        );
      return;
    }
    case 'limits':
      job.limits = readLimits(ctx, yaml, entry);
      return;
    case 'schedule': {
      const cron = text(yaml, entry);
      const problem =
        cron === undefined
          ? `expected a cron expression such as "0 2 * * *", got ${found}`
          : cronProblem(cron);
      if (problem) sink.error('invalid-schedule', loc, problem);
      else job.schedule = cron;
      return;
    }
    case 'timezone': {
      const zone = text(yaml, entry);
      if (zone !== undefined && isTimeZone(zone)) job.timezone = zone;
      else {
        const hint = zone === undefined ? '' : didYouMean(zone, timeZones());
        sink.error(
          'invalid-timezone',
          loc,
          `expected an IANA time zone such as "Asia/Shanghai" or "UTC", got ${found}${hint}`,
        );
      }
      return;
    }
    case 'out': {
      const out = text(yaml, entry);
      const unknown = out?.match(/\{[^}]*\}/g)?.filter((p) => !OUT_PLACEHOLDERS.includes(p)) ?? [];
      if (out === undefined)
        sink.error(
          'invalid-value',
          loc,
          `expected a directory path (may contain {date} or {time}), got ${found}`,
        );
      else if (unknown.length > 0) {
        sink.error(
          'invalid-value',
          loc,
          `expected only the placeholders {date} and {time}, got ${unknown.join(', ')}`,
        );
      } else job.out = resolve(jobDir, out);
      return;
    }
    case 'notify': {
      const notify = readNotify(ctx, yaml, entry);
      if (notify) job.notify = notify;
      return;
    }
    case 'prepare': {
      const prepare = readPrepare(ctx, yaml, entry);
      if (prepare) job.prepare = prepare;
      return;
    }
  }
}

/** `prepare: false`, `prepare: true`, or `prepare: { max_side_px, max_bytes }`. */
function readPrepare(ctx: LoadContext, yaml: YamlFile, entry: YamlEntry): PrepareOptions | undefined {
  const value = yaml.value(entry.value);
  if (typeof value === 'boolean') return { enabled: value };
  if (!yaml.isMap(entry.value)) {
    ctx.sink.error(
      'invalid-value',
      yaml.at(entry.value, 'prepare', entry.keyNode),
      `expected true, false or a mapping of ${Object.keys(PREPARE_KEYS).join(', ')}, got ${kindOf(yaml, entry.value)}`,
    );
    return undefined;
  }
  const prepare: PrepareOptions = { enabled: true };
  for (const item of yaml.entries(entry.value)) {
    const path = `prepare.${item.key}`;
    if (!(item.key in PREPARE_KEYS)) {
      ctx.sink.error(
        'unknown-field',
        yaml.at(item.keyNode, path),
        unknownKeyText('field', item.key, Object.keys(PREPARE_KEYS)),
      );
      continue;
    }
    const key = PREPARE_KEYS[item.key as keyof typeof PREPARE_KEYS];
    const value = yaml.value(item.value);
    const problem = prepareOptionProblem(key, value, ctx.imageMaxBytes);
    if (problem) {
      ctx.sink.error(
        'invalid-value',
        yaml.at(item.value, path, item.keyNode),
        `${problem}, got ${kindOf(yaml, item.value)}`,
      );
    } else prepare[key] = value as number;
  }
  return prepare;
}

function readLimits(ctx: LoadContext, yaml: YamlFile, entry: YamlEntry): JobLimits {
  const limits: JobLimits = {};
  if (!yaml.isMap(entry.value)) {
    ctx.sink.error(
      'invalid-value',
      yaml.at(entry.value, 'limits', entry.keyNode),
      `expected a mapping of ${Object.keys(LIMIT_KEYS).join(', ')}, got ${kindOf(yaml, entry.value)}`,
    );
    return limits;
  }
  for (const item of yaml.entries(entry.value)) {
    const path = `limits.${item.key}`;
    if (!(item.key in LIMIT_KEYS)) {
      ctx.sink.error(
        'unknown-field',
        yaml.at(item.keyNode, path),
        unknownKeyText('field', item.key, Object.keys(LIMIT_KEYS)),
      );
      continue;
    }
    const key = item.key as keyof typeof LIMIT_KEYS;
    const value = yaml.value(item.value);
    const whole = key === 'max_in_flight';
    const ok =
      typeof value === 'number' && Number.isFinite(value) && value > 0 && (!whole || Number.isInteger(value));
    if (ok) limits[LIMIT_KEYS[key]] = value;
    else {
      const expected = whole ? 'a whole number > 0' : 'a number > 0';
      ctx.sink.error(
        'invalid-value',
        yaml.at(item.value, path, item.keyNode),
        `expected ${expected}, got ${kindOf(yaml, item.value)}`,
      );
    }
  }
  return limits;
}

function readNotify(ctx: LoadContext, yaml: YamlFile, entry: YamlEntry): { webhook: string } | undefined {
  if (!yaml.isMap(entry.value)) {
    ctx.sink.error(
      'invalid-value',
      yaml.at(entry.value, 'notify', entry.keyNode),
      `expected a mapping with webhook: <URL>, got ${kindOf(yaml, entry.value)}`,
    );
    return undefined;
  }
  let webhook: string | undefined;
  for (const item of yaml.entries(entry.value)) {
    const path = `notify.${item.key}`;
    if (!NOTIFY_KEYS.includes(item.key)) {
      ctx.sink.error(
        'unknown-field',
        yaml.at(item.keyNode, path),
        unknownKeyText('field', item.key, NOTIFY_KEYS),
      );
      continue;
    }
    const value = yaml.value(item.value);
    if (typeof value === 'string' && isHttpUrl(value.trim())) webhook = value.trim();
    else
      ctx.sink.error(
        'invalid-value',
        yaml.at(item.value, path, item.keyNode),
        `expected an http(s) URL, got ${showValue(value ?? undefined)}`,
      );
  }
  return webhook === undefined ? undefined : { webhook };
}

/** Why a cron expression is unusable, or undefined when croner accepts it with 5 or 6 fields. */
export function cronProblem(expression: string): string | undefined {
  const fields = expression.split(/\s+/).length;
  if (!CRON_NICKNAMES.includes(expression.toLowerCase()) && fields !== 5 && fields !== 6) {
    return `expected a cron expression of 5 fields (minute hour day month weekday) or 6 (seconds first), got ${fields} field(s) in ${JSON.stringify(expression)}`;
  }
  try {
    new Cron(expression, { paused: true }).stop();
    return undefined;
  } catch (error) {
    const reason = error instanceof Error ? error.message.replace(/^CronPattern: /, '') : String(error);
    return `expected a valid cron expression, got ${JSON.stringify(expression)}: ${reason}`;
  }
}

export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

function timeZones(): string[] {
  return [...Intl.supportedValuesOf('timeZone'), 'UTC'];
}
