import { Agent, type Dispatcher } from 'undici';
import type { NormalizedClientOptions } from './normalize.js';
import type { CallClass } from './types.js';

export interface Dispatchers {
  byClass: Readonly<Record<CallClass, Dispatcher>>;
  /** Agents the client created and must close; a caller's dispatcher is never closed here. */
  owned: readonly Agent[];
}

/**
 * undici fixes the connect timeout per connection pool, not per request, so the default set-up is one
 * keep-alive Agent per distinct `connectMs` (one Agent with the defaults). A caller's dispatcher serves all.
 */
export function createDispatchers(o: NormalizedClientOptions): Dispatchers {
  const classes = Object.keys(o.timeouts) as CallClass[];
  if (o.dispatcher) {
    const d = o.dispatcher;
    return { byClass: { submit: d, query: d, upload: d, download: d }, owned: [] };
  }
  const agents = new Map<number, Agent>();
  const byClass = {} as Record<CallClass, Dispatcher>;
  for (const cls of classes) {
    const connectMs = o.timeouts[cls].connectMs;
    let agent = agents.get(connectMs);
    if (!agent) {
      agent = new Agent({
        connections: o.connections,
        keepAliveTimeout: o.keepAliveTimeoutMs,
        connect: { timeout: connectMs },
      });
      agents.set(connectMs, agent);
    }
    byClass[cls] = agent;
  }
  return { byClass, owned: [...agents.values()] };
}
