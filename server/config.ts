// Configuration from environment variables; every one is listed in the README with its default.
export interface Config {
  port: number;
  host: string;
  dbFile: string;
  packFamily: string;
  /** Largest request body accepted, bytes. */
  bodyLimit: number;
  logLevel: string;
  /** The customer-services mailbox: mail to it is route customer-services. */
  mailbox: string;
  /** The organisation's mail domains: mail to other addresses there is colleague-direct; mail from them is a reply. */
  orgDomains: string[];
  socialVerifyToken: string;
  socialAppSecret: string;
  /** The organisation's own page/account id on the social platform: its comments and messages are replies. */
  socialPageId: string;
  /** Serve the built web app from this folder when it exists. */
  webRoot: string;
  /** "High volumes" when this many calls wait… */
  busyCallsWaiting: number;
  /** …or the oldest call has waited this long (seconds). */
  busyOldestWaitSeconds: number;
  /** Most urgent rows a board is sent (the rest are counted in the tiles). */
  boardListLimit: number;
}

function int(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const v = env[name];
  if (v === undefined || v === '') return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name}: expected a whole number, got "${v}"`);
  return n;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const str = (name: string, fallback: string) => (env[name] === undefined || env[name] === '' ? fallback : env[name]!);
  return {
    port: int(env, 'PORT', 3000),
    host: str('HOST', '127.0.0.1'),
    dbFile: str('KEPT_DB', './data/kept.db'),
    packFamily: str('KEPT_PACK', 'livewest'),
    bodyLimit: int(env, 'KEPT_BODY_LIMIT', 1_048_576),
    logLevel: str('KEPT_LOG_LEVEL', 'info'),
    mailbox: str('KEPT_MAILBOX', 'customer.services@example.org').toLowerCase(),
    orgDomains: str('KEPT_ORG_DOMAINS', 'example.org')
      .split(',')
      .map((d) => d.trim().toLowerCase())
      .filter((d) => d !== ''),
    socialVerifyToken: str('KEPT_SOCIAL_VERIFY_TOKEN', ''),
    socialAppSecret: str('KEPT_SOCIAL_APP_SECRET', ''),
    socialPageId: str('KEPT_SOCIAL_PAGE_ID', ''),
    webRoot: str('KEPT_WEB_ROOT', './dist/web'),
    busyCallsWaiting: int(env, 'KEPT_BUSY_CALLS_WAITING', 10),
    busyOldestWaitSeconds: int(env, 'KEPT_BUSY_OLDEST_WAIT_SECONDS', 240),
    boardListLimit: int(env, 'KEPT_BOARD_LIST_LIMIT', 500),
  };
}
