/**
 * Keeping the key out of everything the client emits: messages, response snippets, `cause` chains and URLs.
 * Signed result URLs carry credentials in their query string, so paths shown in errors and logs drop it.
 */

export const REDACTED = '[REDACTED]';

const BEARER = /\b(Bearer)\s+[^\s"',;]+/gi;

/** Replace every occurrence of each secret (and any `Bearer <token>`) in `text`. */
export function redactText(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) {
    if (secret.length >= 4 && out.includes(secret)) out = out.split(secret).join(REDACTED);
  }
  return out.includes('earer') ? out.replace(BEARER, `$1 ${REDACTED}`) : out;
}

/** `origin + path` of a URL: no credentials, no query string, no fragment. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
  } catch {
    const cut = url.search(/[?#]/);
    const bare = cut < 0 ? url : url.slice(0, cut);
    return bare.replace(/\/\/[^/@]*@/, '//');
  }
}

/**
 * A copy of an error chain that is safe to keep as `cause`: same name, code and (redacted) message, nested
 * causes copied the same way. Errors from sockets or user code may quote a URL or header; the originals stay
 * out of anything we return.
 */
export function redactError(error: unknown, secrets: readonly string[], depth = 0): unknown {
  if (!(error instanceof Error)) {
    return typeof error === 'string'
      ? redactText(error, secrets)
      : error === undefined
        ? undefined
        : String(error);
  }
  const copy = new Error(redactText(error.message, secrets));
  copy.name = error.name;
  copy.stack = `${copy.name}: ${copy.message}`;
  const code = (error as { code?: unknown }).code;
  if (code !== undefined) (copy as Error & { code?: unknown }).code = code;
  if (error.cause !== undefined && depth < 4) copy.cause = redactError(error.cause, secrets, depth + 1);
  return copy;
}
