import { type Classifier, readEnvelope } from './_classify.js';
import { createDispatchers } from './_dispatcher.js';
import type { Envelope } from './_envelope.js';
import { apiError, Exchange } from './_exchange.js';
import { sendOnce } from './_http.js';
import { buildUploadPayload } from './_multipart.js';
import { parseResult, parseStatus, parseSubmit, parseUpload } from './_parse.js';
import { type RetryHooks, withRetry } from './_retry.js';
import { type DownloadContext, downloadToFile } from './download.js';
import type { EndpointName } from './errors.js';
import { normalizeClientOptions, type Route } from './normalize.js';
import type { ClientOptions } from './options.js';
import { validateGenerationRequest } from './request.js';
import type { CallClass, CallOptions, Client } from './types.js';

/**
 * `createClient(options)`: options are checked once, headers and routes built once, and every call is
 * `withRetry(attempt)` where an attempt is `sendOnce` → `readEnvelope` → the endpoint's parser. Nothing per
 * request beyond the request itself: one Exchange, one headers object reused, no sync IO.
 */
export function createClient(options: ClientOptions): Client {
  const o = normalizeClientOptions(options);
  const secrets = [o.apiKey];
  const authorization = `Bearer ${o.apiKey}`;
  const dispatchers = createDispatchers(o);
  const hooks: RetryHooks = { gate: o.gate, onAttempt: o.onAttempt, logger: o.logger };
  const classifier: Classifier = {
    isModeration: o.isModeration,
    isRateLimit: o.isRateLimit,
    isConcurrencyLimit: o.isConcurrencyLimit,
  };
  const getHeaders = Object.freeze({ authorization, accept: 'application/json', 'user-agent': o.userAgent });
  const jsonHeaders = Object.freeze({ ...getHeaders, 'content-type': 'application/json' });
  let closed = false;

  function exchange(
    endpoint: EndpointName,
    callClass: CallClass,
    method: 'GET' | 'POST',
    path: string,
  ): Exchange {
    return new Exchange(endpoint, callClass, method, path, secrets);
  }

  function ensureOpen(ex: Exchange): void {
    if (closed) throw apiError(ex, 'E_CONFIG', 'the client is closed', 'not-sent');
  }

  async function call<T>(
    ex: Exchange,
    route: Route,
    path: string,
    headers: Readonly<Record<string, string>>,
    body: string | Buffer | undefined,
    opts: CallOptions | undefined,
    parse: (env: Envelope, text: string) => T,
  ): Promise<T> {
    ensureOpen(ex);
    const dispatcher = dispatchers.byClass[ex.callClass];
    const timeouts = o.timeouts[ex.callClass];
    const signal = opts?.signal;
    return withRetry(
      ex,
      o.retry[ex.callClass],
      hooks,
      signal,
      async () => {
        const res = await sendOnce(
          dispatcher,
          ex,
          route.origin,
          path,
          headers as Record<string, string>,
          body,
          timeouts,
          signal,
        );
        return parse(readEnvelope(ex, res, classifier), res.text);
      },
      opts,
    );
  }

  function taskPath(endpoint: 'status' | 'result', taskId: string): [Exchange, Route, string] {
    const route = o.routes[endpoint];
    const id = typeof taskId === 'string' ? taskId.trim() : '';
    const path = route.pathHead + encodeURIComponent(id) + route.pathTail;
    const ex = exchange(endpoint, 'query', 'GET', path);
    if (id === '')
      throw apiError(
        ex,
        'E_INVALID_REQUEST',
        `expected a task id, got ${JSON.stringify(taskId)}`,
        'not-sent',
      );
    return [ex, route, path];
  }

  const download: DownloadContext = {
    dispatcher: dispatchers.byClass.download,
    timeouts: o.timeouts.download,
    retry: o.retry.download,
    hooks,
    secrets,
    authOrigin: o.origin,
    authorization,
    userAgent: o.userAgent,
  };

  return {
    async upload(input, opts?: CallOptions) {
      const route = o.routes.upload;
      const ex = exchange('upload', 'upload', 'POST', route.pathHead);
      ensureOpen(ex);
      const payload = await buildUploadPayload(ex, input);
      const headers = { ...getHeaders, 'content-type': payload.contentType };
      return call(ex, route, route.pathHead, headers, payload.body, opts, (env, text) =>
        parseUpload(ex, env, text, o.baseUrl),
      );
    },

    async submit(request, opts?: CallOptions) {
      const route = o.routes.submit;
      const ex = exchange('submit', 'submit', 'POST', route.pathHead);
      const issues = validateGenerationRequest(request, o.rules);
      if (issues.length > 0) {
        const list = issues.map((i) => `${i.field}: ${i.message}`).join('; ');
        throw apiError(ex, 'E_INVALID_REQUEST', `invalid request, nothing sent: ${list}`, 'not-sent');
      }
      const body = JSON.stringify(request);
      return call(ex, route, route.pathHead, jsonHeaders, body, opts, (env, text) =>
        parseSubmit(ex, env, text),
      );
    },

    async status(taskId, opts?: CallOptions) {
      const [ex, route, path] = taskPath('status', taskId);
      return call(ex, route, path, getHeaders, undefined, opts, (env, text) => parseStatus(ex, env, text));
    },

    async result(taskId, opts?: CallOptions) {
      const [ex, route, path] = taskPath('result', taskId);
      return call(ex, route, path, getHeaders, undefined, opts, (env, text) => parseResult(ex, env, text));
    },

    async download(url, destPath, opts?: CallOptions) {
      if (closed)
        throw apiError(
          exchange('download', 'download', 'GET', '-'),
          'E_CONFIG',
          'the client is closed',
          'not-sent',
        );
      return downloadToFile(download, url, destPath, opts?.signal);
    },

    async close() {
      if (closed) return;
      closed = true;
      await Promise.all(dispatchers.owned.map((agent) => agent.close()));
    },
  };
}
