import type { IncomingMessage, ServerResponse } from 'node:http';
import { CODE } from './_codes.js';
import { runEndpoint } from './_endpoint.js';
import { handleFile, handleVideo } from './_handle-files.js';
import { handleQuery } from './_handle-query.js';
import { handleSubmit } from './_handle-submit.js';
import { handleUpload } from './_handle-upload.js';
import { type Exchange, sendJson } from './_respond.js';
import type { SimState } from './_state.js';

const TASKS_PREFIX = '/v1/comfyui/tasks/';

/** The request listener: routes by method and path, counts every request, logs all but `/__sim/*`. */
export function createRequestListener(sim: SimState): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    const query = q < 0 ? '' : url.slice(q + 1);
    const method = req.method ?? 'GET';
    const ex: Exchange = {
      req,
      res,
      endpoint: 'other',
      at: sim.now(),
      key: null,
      after: undefined,
      logged: true,
      done: false,
    };
    const route = (endpoint: string, methods: readonly string[]): boolean => {
      ex.endpoint = endpoint;
      sim.ledger.count(endpoint);
      if (methods.includes(method)) return true;
      sendJson(
        sim.ledger,
        ex,
        405,
        { code: CODE.METHOD_NOT_ALLOWED, message: `method ${method} not allowed` },
        {
          allow: methods.join(', '),
        },
      );
      return false;
    };

    if (path === '/v1/videos/generations') {
      if (route('submit', ['POST'])) runEndpoint(sim, ex, 'submit', handleSubmit);
    } else if (path.startsWith(TASKS_PREFIX)) {
      const rest = path.slice(TASKS_PREFIX.length);
      const slash = rest.indexOf('/');
      const taskId = safeDecode(rest.slice(0, slash));
      const kind = rest.slice(slash + 1);
      if (slash > 0 && (kind === 'status' || kind === 'result')) {
        if (route(kind, ['GET'])) runEndpoint(sim, ex, kind, handleQuery(kind, taskId));
      } else {
        notFound(sim, ex);
      }
    } else if (path === '/v1/resources/upload') {
      if (route('upload', ['POST'])) runEndpoint(sim, ex, 'upload', handleUpload);
    } else if (path.startsWith('/videos/')) {
      if (route('download', ['GET', 'HEAD'])) {
        runEndpoint(sim, ex, 'download', (s, e) => handleVideo(s, e, path, query));
      }
    } else if (path.startsWith('/files/')) {
      if (route('files', ['GET', 'HEAD'])) handleFile(sim, ex, path);
    } else if (path === '/__sim/ledger') {
      ex.logged = false;
      if (route('ledger', ['GET'])) {
        sendJson(sim.ledger, ex, 200, sim.ledger.snapshot() as unknown as Record<string, unknown>);
      }
    } else {
      notFound(sim, ex);
    }
  };
}

function notFound(sim: SimState, ex: Exchange): void {
  sim.ledger.count('other');
  sendJson(sim.ledger, ex, 404, { code: CODE.NOT_FOUND, message: 'Not Found' });
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
