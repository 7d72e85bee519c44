/**
 * The flf2video request body (API.md §1) and its value rules, written once so that manifests validate with the
 * very rules the client enforces before anything is sent.
 */

export const TASK_TYPE = 'flf2video';
/** The model named on the provider's page. More exist, so any non-empty name is accepted. */
export const DEFAULT_MODEL = 'Viduq2-pro-FLF2V-fast';
export const RESOLUTIONS = ['720p', '1080p'] as const;
export const DURATIONS = [5, 6, 8] as const;

export type Resolution = (typeof RESOLUTIONS)[number];
export type Duration = (typeof DURATIONS)[number];

export interface GenerationInput {
  /** First frame: http(s) URL of a png or jpg (as returned by upload). */
  image: string;
  /** Last frame: http(s) URL of a png or jpg. */
  last_image: string;
  prompt: string;
  negative_prompt?: string;
  resolution: Resolution;
  /** Not needed: the output takes the first frame's aspect ratio. Passed through when set. */
  aspect_ratio?: string;
  duration: Duration;
  /** 1–4. @default 1 */
  number_of_videos?: number;
}

export interface GenerationRequest {
  selected_model: string;
  task_type: typeof TASK_TYPE;
  input: GenerationInput;
  /** Let the provider rewrite the prompt. @default false */
  need_expand_prompt?: boolean;
  /** @default true (the only mode the endpoint supports) */
  async?: boolean;
}

/**
 * Limits that the seed does not state but providers enforce (API.md "Limits commonly enforced"). They are
 * defaults, overridable wherever rules are applied.
 */
export interface RequestRules {
  /** Maximum prompt length in characters (code points). @default 2000 */
  promptMaxChars: number;
  /** Maximum negative prompt length in characters. @default 2000 */
  negativePromptMaxChars: number;
  /** @default 1 */
  minVideos: number;
  /** @default 4 */
  maxVideos: number;
}

export const DEFAULT_REQUEST_RULES: Readonly<RequestRules> = Object.freeze({
  promptMaxChars: 2000,
  negativePromptMaxChars: 2000,
  minVideos: 1,
  maxVideos: 4,
});

/** Task fields a manifest may set: the API's own names (flattened from `input`). */
export const TASK_FIELDS = [
  'selected_model',
  'image',
  'last_image',
  'prompt',
  'negative_prompt',
  'resolution',
  'aspect_ratio',
  'duration',
  'number_of_videos',
  'need_expand_prompt',
] as const;
export type TaskField = (typeof TASK_FIELDS)[number];

export const REQUIRED_TASK_FIELDS: readonly TaskField[] = ['image', 'last_image', 'prompt'];

/** A field that failed its rule: what was expected and what was found. */
export interface FieldIssue {
  /** API field name, flattened (`duration`, not `input.duration`). */
  field: string;
  expected: string;
  /** The offending value as the user wrote it (stringified for display by the caller). */
  found: unknown;
  /** `expected …, got …` ready to print after a location. */
  message: string;
}

export type CoerceResult<T = unknown> = { ok: true; value: T } | { ok: false; issue: FieldIssue };

export interface CoerceOptions {
  /**
   * Values come from text (CSV cells): accept "5" for 5 and "true"/"false"/"yes"/"no"/"1"/"0" for booleans.
   * @default false
   */
  fromText?: boolean;
  rules?: Partial<RequestRules>;
}

/** Show a found value the way the user wrote it: strings quoted, everything else as JSON. */
export function showValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (typeof value === 'string') return JSON.stringify(value);
  try {
    const json = JSON.stringify(value);
    return json.length > 80 ? `${json.slice(0, 77)}...` : json;
  } catch {
    return String(value);
  }
}

function fail(field: string, expected: string, found: unknown): { ok: false; issue: FieldIssue } {
  return {
    ok: false,
    issue: { field, expected, found, message: `expected ${expected}, got ${showValue(found)}` },
  };
}

function orList(values: readonly (string | number)[]): string {
  const shown = values.map((v) => (typeof v === 'string' ? JSON.stringify(v) : String(v)));
  return shown.length <= 1 ? (shown[0] ?? '') : `${shown.slice(0, -1).join(', ')} or ${shown.at(-1)}`;
}

function codePoints(text: string): number {
  let n = 0;
  for (const _ of text) n++;
  return n;
}

function toInt(value: unknown, fromText: boolean): CoerceResult<number> | undefined {
  if (typeof value === 'number' && Number.isInteger(value)) return { ok: true, value };
  if (fromText && typeof value === 'string' && /^\s*[+-]?\d+\s*$/.test(value)) {
    return { ok: true, value: Number.parseInt(value, 10) };
  }
  return undefined;
}

const TRUE_WORDS = new Set(['true', 'yes', 'y', '1', 'on']);
const FALSE_WORDS = new Set(['false', 'no', 'n', '0', 'off']);

/**
 * Check one task field and return its normalized value (trimmed enums, numbers from text, booleans from text).
 * Frame fields (`image`, `last_image`) are only checked for being non-empty strings here: whether a value is a
 * local path or a URL is the manifest's business; `validateGenerationRequest` requires URLs.
 */
export function coerceTaskField(field: TaskField, value: unknown, options: CoerceOptions = {}): CoerceResult {
  const rules = { ...DEFAULT_REQUEST_RULES, ...options.rules };
  const fromText = options.fromText ?? false;
  switch (field) {
    case 'selected_model':
    case 'image':
    case 'last_image':
      if (typeof value === 'string' && value.trim() !== '') return { ok: true, value: value.trim() };
      return fail(
        field,
        field === 'selected_model' ? 'a model name' : 'a file path or an http(s) URL',
        value,
      );
    case 'prompt':
    case 'negative_prompt': {
      const max = field === 'prompt' ? rules.promptMaxChars : rules.negativePromptMaxChars;
      if (typeof value !== 'string' || (field === 'prompt' && value.trim() === '')) {
        return fail(field, 'a non-empty text', value);
      }
      const length = codePoints(value);
      if (length > max) return fail(field, `at most ${max} characters`, `${length} characters`);
      return { ok: true, value };
    }
    case 'resolution': {
      const text = typeof value === 'string' ? value.trim().toLowerCase() : value;
      if (typeof text === 'string' && (RESOLUTIONS as readonly string[]).includes(text)) {
        return { ok: true, value: text };
      }
      return fail(field, orList(RESOLUTIONS), value);
    }
    case 'aspect_ratio':
      if (typeof value === 'string' && /^\s*\d+(\.\d+)?\s*:\s*\d+(\.\d+)?\s*$/.test(value)) {
        return { ok: true, value: value.replace(/\s+/g, '') };
      }
      return fail(field, 'a ratio such as "16:9"', value);
    case 'duration': {
      const n = toInt(value, fromText);
      if (n?.ok && (DURATIONS as readonly number[]).includes(n.value)) return n;
      return fail(field, orList(DURATIONS), value);
    }
    case 'number_of_videos': {
      const n = toInt(value, fromText);
      if (n?.ok && n.value >= rules.minVideos && n.value <= rules.maxVideos) return n;
      return fail(field, `an integer from ${rules.minVideos} to ${rules.maxVideos}`, value);
    }
    case 'need_expand_prompt': {
      if (typeof value === 'boolean') return { ok: true, value };
      if (fromText && typeof value === 'string') {
        const word = value.trim().toLowerCase();
        if (TRUE_WORDS.has(word)) return { ok: true, value: true };
        if (FALSE_WORDS.has(word)) return { ok: true, value: false };
      }
      return fail(field, 'true or false', value);
    }
  }
}

export function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}

/**
 * Validate a complete request body as it would be POSTed. Returns every issue (empty when valid); never throws.
 */
export function validateGenerationRequest(body: unknown, rules?: Partial<RequestRules>): FieldIssue[] {
  const issues: FieldIssue[] = [];
  const push = (result: CoerceResult) => {
    if (!result.ok) issues.push(result.issue);
  };
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return [fail('body', 'an object', body).issue];
  }
  const req = body as Record<string, unknown>;
  push(coerceTaskField('selected_model', req.selected_model, { rules }));
  if (req.task_type !== TASK_TYPE)
    issues.push(fail('task_type', JSON.stringify(TASK_TYPE), req.task_type).issue);
  if (req.need_expand_prompt !== undefined) {
    push(coerceTaskField('need_expand_prompt', req.need_expand_prompt, { rules }));
  }
  if (req.async !== undefined && typeof req.async !== 'boolean') {
    issues.push(fail('async', 'true or false', req.async).issue);
  }
  const input = req.input;
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    issues.push(fail('input', 'an object', input).issue);
    return issues;
  }
  const fields = input as Record<string, unknown>;
  for (const field of ['image', 'last_image'] as const) {
    const value = fields[field];
    if (typeof value !== 'string' || !isHttpUrl(value)) {
      issues.push(fail(field, 'an http(s) URL of a png or jpg', value).issue);
    }
  }
  push(coerceTaskField('prompt', fields.prompt, { rules }));
  push(coerceTaskField('resolution', fields.resolution, { rules }));
  push(coerceTaskField('duration', fields.duration, { rules }));
  for (const field of ['negative_prompt', 'aspect_ratio', 'number_of_videos'] as const) {
    if (fields[field] !== undefined) push(coerceTaskField(field, fields[field], { rules }));
  }
  return issues;
}
