// Request logging that never carries a secret: no headers at all, and a URL whose query values are
// kept only for parameters known to be harmless (everything else, e.g. access_token, is redacted).
import type { FastifyServerOptions } from 'fastify';
import type { Writable } from 'node:stream';

/**
 * Query parameters whose values may be logged: filters and paging, never credentials, challenges
 * or customers' details. Any other parameter is logged by name with its value redacted.
 */
const LOGGABLE_QUERY = new Set(['status', 'standard', 'channel', 'category', 'limit', 'since', 'mark', 'division', 'from', 'to', 'sent', 'hub.mode', 'replace', 'cursor']);
/** How much of a URL a log line keeps (a path can be long; the route is what matters). */
const MAX_URL = 300;

/** The URL as logged: the path, then each query parameter with its value unless it is loggable. */
export function redactUrl(url: string): string {
  const q = url.indexOf('?');
  const path = (q === -1 ? url : url.slice(0, q)).slice(0, MAX_URL);
  if (q === -1) return path;
  const parts = url
    .slice(q + 1, q + 1 + 2 * MAX_URL)
    .split('&')
    .filter((p) => p !== '')
    .map((p) => {
      const eq = p.indexOf('=');
      const rawName = eq === -1 ? p : p.slice(0, eq);
      let name: string;
      try {
        name = decodeURIComponent(rawName.replace(/\+/g, ' '));
      } catch {
        name = rawName;
      }
      return eq !== -1 && LOGGABLE_QUERY.has(name) ? p : `${rawName.slice(0, 40)}=[redacted]`;
    });
  return `${path}?${parts.join('&')}`;
}

interface RequestLike {
  method: string;
  url: string;
  ip?: string;
  routeOptions?: { url?: string };
}

/** Pino options for Fastify: JSON lines, request and error serialisers that carry no secrets. */
export function loggerOptions(level: string, stream?: Writable): FastifyServerOptions['logger'] {
  return {
    level,
    ...(stream !== undefined ? { stream } : {}),
    // Belt and braces: should any code log headers, these paths never print.
    redact: { paths: ['req.headers.authorization', 'req.headers.cookie', 'req.headers["x-hub-signature-256"]', 'res.headers["set-cookie"]', 'headers.authorization', 'headers.cookie'], censor: '[redacted]' },
    serializers: {
      req: (req: RequestLike) => ({ method: req.method, url: redactUrl(req.url), route: req.routeOptions?.url, remoteAddress: req.ip }),
      res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
    },
  } as FastifyServerOptions['logger'];
}
