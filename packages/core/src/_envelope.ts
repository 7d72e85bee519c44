/** A provider answer's JSON body, as read before the endpoint's parser looks at it. */
export type Envelope = Record<string, unknown>;

type Obj = Record<string, unknown>;

export function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** `data` itself, or its first element when it is an array. */
export function first(v: unknown): unknown {
  return Array.isArray(v) ? v[0] : v;
}

export function pick(o: unknown, keys: readonly string[]): unknown {
  if (!isObj(o)) return undefined;
  for (const k of keys) if (o[k] !== undefined && o[k] !== null && o[k] !== '') return o[k];
  return undefined;
}

const TASK_ID_KEYS = ['taskId', 'task_id', 'taskID', 'id'];

/** The task id anywhere a provider is likely to put it: `data.taskId`, `data[0].taskId`, top level. */
export function findTaskId(env: Envelope): string | undefined {
  const id = pick(first(env.data), TASK_ID_KEYS) ?? pick(env, ['taskId', 'task_id']);
  if (typeof id === 'string' && id.trim() !== '') return id.trim();
  if (typeof id === 'number' && Number.isFinite(id)) return String(id);
  return undefined;
}
