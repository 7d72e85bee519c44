import { BatchError } from '../../errors.js';

/** A Redis backend's address, as given (`redis://[user:password@]host:port[/db]`) and as safe to show. */
export interface RedisAddress {
  host: string;
  port: number;
  /** Database number. @default 0 */
  db: number;
  username?: string;
  password?: string;
  /** `redis://host:port/db`: no credentials, for logs, messages and `backend.json`. */
  display: string;
}

/**
 * Read `--backend`. @throws BatchError `E_USAGE` when it is not a `redis://` URL with a host (the port defaults to
 * 6379, the database to 0).
 */
export function parseRedisUrl(raw: string): RedisAddress {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new BatchError('E_USAGE', `--backend: expected redis://HOST:PORT[/DB], got ${JSON.stringify(raw)}`);
  }
  if (url.protocol !== 'redis:' || url.hostname === '') {
    throw new BatchError(
      'E_USAGE',
      `--backend: expected redis://HOST:PORT[/DB], got ${JSON.stringify(`${url.protocol}//${url.host}${url.pathname}`)}`,
    );
  }
  const port = url.port === '' ? 6379 : Number(url.port);
  const dbText = url.pathname.replace(/^\//, '');
  const db = dbText === '' ? 0 : Number(dbText);
  if (!Number.isInteger(db) || db < 0 || db > 15) {
    throw new BatchError(
      'E_USAGE',
      `--backend: expected a database number 0–15 after the port, got ${JSON.stringify(dbText)}`,
    );
  }
  const host = url.hostname.replace(/^\[|\]$/g, '');
  return {
    host,
    port,
    db,
    ...(url.username ? { username: decodeURIComponent(url.username) } : {}),
    ...(url.password ? { password: decodeURIComponent(url.password) } : {}),
    display: `redis://${url.hostname}:${port}/${db}`,
  };
}
