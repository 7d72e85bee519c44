import type { Dispatcher } from 'undici';
import { Flf2vError } from './errors.js';
import {
  type ClientOptions,
  DEFAULT_BASE_URL,
  DEFAULT_CONCURRENCY_LIMIT_PATTERNS,
  DEFAULT_CONNECTIONS,
  DEFAULT_ENDPOINTS,
  DEFAULT_KEEP_ALIVE_TIMEOUT_MS,
  DEFAULT_MODERATION_PATTERNS,
  DEFAULT_RATE_LIMIT_PATTERNS,
  DEFAULT_RETRY,
  DEFAULT_TIMEOUTS,
  type Endpoints,
  type RetryOptions,
  type TimeoutOptions,
} from './options.js';
import { DEFAULT_REQUEST_RULES, type RequestRules } from './request.js';
import type { AttemptEvent, CallClass, CallGate, Logger } from './types.js';

/** The one normalize step: every option checked where it enters, defaults filled in, routes resolved. */

/** An endpoint resolved once: origin plus the path around `{taskId}`. */
export interface Route {
  origin: string;
  /** The whole path for fixed endpoints; the part before `{taskId}` for templates. */
  pathHead: string;
  /** The part after `{taskId}` ('' for fixed endpoints). */
  pathTail: string;
}

export interface NormalizedClientOptions {
  apiKey: string;
  baseUrl: string;
  origin: string;
  routes: Readonly<Record<keyof Endpoints, Route>>;
  timeouts: Readonly<Record<CallClass, Readonly<TimeoutOptions>>>;
  retry: Readonly<Record<CallClass, Readonly<RetryOptions>>>;
  logger?: Logger;
  dispatcher?: Dispatcher;
  connections: number;
  keepAliveTimeoutMs: number;
  gate?: CallGate;
  onAttempt?: (event: AttemptEvent) => void;
  rules?: Partial<RequestRules>;
  isModeration: (message: string) => boolean;
  isRateLimit: (message: string) => boolean;
  isConcurrencyLimit: (message: string) => boolean;
  userAgent: string;
}

const CALL_CLASSES: readonly CallClass[] = ['submit', 'query', 'upload', 'download'];

function configError(message: string): Flf2vError {
  return new Flf2vError('E_CONFIG', message, { retryable: false });
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'string')
    return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return typeof value;
}

function checkNumber(name: string, value: unknown, min: number, integer = false): number {
  if (
    typeof value !== 'number' ||
    !Number.isFinite(value) ||
    value < min ||
    (integer && !Number.isInteger(value))
  ) {
    throw configError(
      `Expected \`${name}\` to be a finite ${integer ? 'integer' : 'number'} >= ${min}, got ${describe(value)}`,
    );
  }
  return value;
}

function checkKeys(name: string, value: unknown, allowed: readonly string[]): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw configError(`Expected \`${name}\` to be an object, got ${describe(value)}`);
  }
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) {
      throw configError(`Unknown key \`${name}.${key}\`; expected one of ${allowed.join(', ')}`);
    }
  }
  return value as Record<string, unknown>;
}

function checkApiKey(value: unknown): string {
  // Never echo the value: it is a secret even when malformed.
  if (typeof value !== 'string' || value.trim() === '') {
    throw configError(
      `Expected \`apiKey\` to be a non-empty string (set BAICAI_API_KEY), got ${typeof value === 'string' ? 'an empty string' : describe(value)}`,
    );
  }
  if (/[\s\x00-\x1f\x7f]/.test(value)) {
    throw configError(
      `Expected \`apiKey\` without spaces or control characters, got a ${value.length}-character string containing some`,
    );
  }
  return value;
}

function checkBaseUrl(value: unknown): URL {
  let url: URL | undefined;
  try {
    url = typeof value === 'string' ? new URL(value) : undefined;
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    throw configError(`Expected \`baseUrl\` to be an http(s) URL, got ${describe(value)}`);
  }
  if (url.search || url.hash || url.username || url.password) {
    throw configError('Expected `baseUrl` without query, fragment or credentials (the key goes in `apiKey`)');
  }
  return url;
}

function resolveRoute(name: keyof Endpoints, value: unknown, base: URL): Route {
  if (typeof value !== 'string' || value.trim() === '') {
    throw configError(`Expected \`endpoints.${name}\` to be a path or URL, got ${describe(value)}`);
  }
  const templated = name === 'status' || name === 'result';
  const parts = value.split('{taskId}');
  if (templated ? parts.length !== 2 : parts.length !== 1) {
    throw configError(
      `Expected \`endpoints.${name}\` to contain ${templated ? 'exactly one' : 'no'} \`{taskId}\`, got ${describe(value)}`,
    );
  }
  const head = parts[0]!;
  const tail = parts[1] ?? '';
  if (/^https?:\/\//i.test(head)) {
    const url = new URL(head);
    return { origin: url.origin, pathHead: url.pathname + url.search, pathTail: tail };
  }
  if (!head.startsWith('/')) {
    throw configError(
      `Expected \`endpoints.${name}\` to start with "/" or http(s)://, got ${describe(value)}`,
    );
  }
  const prefix = base.pathname.replace(/\/+$/, '');
  return { origin: base.origin, pathHead: prefix + head, pathTail: tail };
}

function compilePatterns(name: string, value: unknown): (message: string) => boolean {
  if (!Array.isArray(value))
    throw configError(`Expected \`${name}\` to be an array of strings or RegExps, got ${describe(value)}`);
  const regexps: RegExp[] = [];
  const words: string[] = [];
  for (const [i, p] of value.entries()) {
    if (p instanceof RegExp) regexps.push(p);
    else if (typeof p === 'string' && p !== '') words.push(p.toLowerCase());
    else
      throw configError(
        `Expected \`${name}[${i}]\` to be a non-empty string or a RegExp, got ${describe(p)}`,
      );
  }
  return (message) => {
    const lower = message.toLowerCase();
    return words.some((w) => lower.includes(w)) || regexps.some((r) => r.test(message));
  };
}

function perClass<T extends object>(
  name: string,
  value: unknown,
  defaults: Readonly<Record<CallClass, Readonly<T>>>,
  check: (path: string, merged: T) => T,
): Record<CallClass, Readonly<T>> {
  const given = value === undefined ? {} : checkKeys(name, value, CALL_CLASSES);
  const out = {} as Record<CallClass, Readonly<T>>;
  for (const cls of CALL_CLASSES) {
    const fields = Object.keys(defaults[cls]);
    const over = given[cls] === undefined ? {} : checkKeys(`${name}.${cls}`, given[cls], fields);
    out[cls] = Object.freeze(check(`${name}.${cls}`, { ...defaults[cls], ...over } as T));
  }
  return out;
}

/** Check every option where it enters and fill in the defaults. Throws `E_CONFIG` naming the bad option. */
export function normalizeClientOptions(options: ClientOptions): NormalizedClientOptions {
  if (typeof options !== 'object' || options === null)
    throw configError(`Expected client options to be an object, got ${describe(options)}`);
  const apiKey = checkApiKey(options.apiKey);
  const base = checkBaseUrl(options.baseUrl ?? DEFAULT_BASE_URL);
  const endpointsGiven =
    options.endpoints === undefined
      ? {}
      : checkKeys('endpoints', options.endpoints, Object.keys(DEFAULT_ENDPOINTS));
  const endpoints = { ...DEFAULT_ENDPOINTS, ...endpointsGiven } as Endpoints;
  const routes = {
    submit: resolveRoute('submit', endpoints.submit, base),
    upload: resolveRoute('upload', endpoints.upload, base),
    status: resolveRoute('status', endpoints.status, base),
    result: resolveRoute('result', endpoints.result, base),
  };
  const timeouts = perClass('timeouts', options.timeouts, DEFAULT_TIMEOUTS, (path, t) => {
    checkNumber(`${path}.connectMs`, t.connectMs, 1);
    checkNumber(`${path}.headersMs`, t.headersMs, 1);
    checkNumber(`${path}.bodyMs`, t.bodyMs, 1);
    return t;
  });
  const retry = perClass('retry', options.retry, DEFAULT_RETRY, (path, r) => {
    checkNumber(`${path}.attempts`, r.attempts, 1, true);
    checkNumber(`${path}.baseDelayMs`, r.baseDelayMs, 0);
    checkNumber(`${path}.maxDelayMs`, r.maxDelayMs, r.baseDelayMs);
    checkNumber(`${path}.maxRetryAfterMs`, r.maxRetryAfterMs, 0);
    return r;
  });
  const logger = options.logger;
  if (logger !== undefined) {
    for (const level of ['debug', 'info', 'warn', 'error'] as const) {
      if (typeof logger[level] !== 'function')
        throw configError(`Expected \`logger.${level}\` to be a function (a pino-compatible logger)`);
    }
  }
  const gate = options.gate;
  if (gate !== undefined && (typeof gate.acquire !== 'function' || typeof gate.settle !== 'function')) {
    throw configError(
      'Expected `gate` to have `acquire(callClass, signal)` and `settle(callClass, outcome)` functions',
    );
  }
  if (options.onAttempt !== undefined && typeof options.onAttempt !== 'function') {
    throw configError(`Expected \`onAttempt\` to be a function, got ${describe(options.onAttempt)}`);
  }
  const dispatcher = options.dispatcher;
  if (
    dispatcher !== undefined &&
    (typeof dispatcher !== 'object' || typeof dispatcher.request !== 'function')
  ) {
    throw configError('Expected `dispatcher` to be an undici Dispatcher');
  }
  let rules: Partial<RequestRules> | undefined;
  if (options.rules !== undefined) {
    rules = checkKeys('rules', options.rules, Object.keys(DEFAULT_REQUEST_RULES)) as Partial<RequestRules>;
    for (const [key, value] of Object.entries(rules)) checkNumber(`rules.${key}`, value, 0, true);
  }
  const userAgent = options.userAgent ?? 'flf2v-core';
  if (typeof userAgent !== 'string' || /[\r\n]/.test(userAgent))
    throw configError(`Expected \`userAgent\` to be a one-line string, got ${describe(userAgent)}`);
  return {
    apiKey,
    baseUrl: base.href.replace(/\/+$/, ''),
    origin: base.origin,
    routes,
    timeouts,
    retry,
    logger,
    dispatcher,
    connections: checkNumber('connections', options.connections ?? DEFAULT_CONNECTIONS, 1, true),
    keepAliveTimeoutMs: checkNumber(
      'keepAliveTimeoutMs',
      options.keepAliveTimeoutMs ?? DEFAULT_KEEP_ALIVE_TIMEOUT_MS,
      1,
    ),
    gate,
    onAttempt: options.onAttempt,
    rules,
    isModeration: compilePatterns(
      'moderationPatterns',
      options.moderationPatterns ?? DEFAULT_MODERATION_PATTERNS,
    ),
    isRateLimit: compilePatterns(
      'rateLimitPatterns',
      options.rateLimitPatterns ?? DEFAULT_RATE_LIMIT_PATTERNS,
    ),
    isConcurrencyLimit: compilePatterns(
      'concurrencyLimitPatterns',
      options.concurrencyLimitPatterns ?? DEFAULT_CONCURRENCY_LIMIT_PATTERNS,
    ),
    userAgent,
  };
}
