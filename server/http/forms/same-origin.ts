// The public form's cross-site check: a post whose Origin (or, without one, Referer) is another site is refused 403.
import type { FastifyRequest, onRequestAsyncHookHandler } from 'fastify';
import { ForbiddenError } from '../../errors.js';

/** A header value as quoted back in an error: bounded, so an answer never grows with the input. */
const quote = (s: string) => JSON.stringify(s.length > 200 ? `${s.slice(0, 200)}…` : s);

/**
 * An `onRequest` hook for the public form's POST (it runs before the body is read, so a refused
 * post costs nothing and does not count against the address's rate limit).
 *
 * - With `publicUrl` (KEPT_PUBLIC_URL) the post must come from exactly that origin: scheme, host
 *   and port.
 * - Without it, from the host the request was sent to (its Host header), in either scheme: behind
 *   a TLS-terminating proxy Kept itself sees http while the browser says https. Host is good
 *   enough here because a cross-site page can make a browser post but cannot choose its Host.
 * - `Origin: null` (a sandboxed frame, a privacy redirect, a page with Referrer-Policy
 *   no-referrer) cannot be checked, so it is refused. The form's own pages are sent with
 *   Referrer-Policy same-origin, so a browser posting them sends their real origin.
 * - A post with neither Origin nor Referer is allowed on purpose: old browsers, privacy tools
 *   that strip Referer, and server-side integrations post that way, and a browser carrying out a
 *   cross-site form post always sends Origin today. The rate limit and the honeypot still apply.
 */
export function sameOriginPosts(publicUrl: string | undefined): onRequestAsyncHookHandler {
  const fixed = publicUrl !== undefined && publicUrl !== '' ? new URL(publicUrl).origin : undefined;

  const check = (request: FastifyRequest, header: 'Origin' | 'Referer', value: string) => {
    let from: URL | undefined;
    try {
      from = new URL(value);
    } catch {
      from = undefined;
    }
    const web = from !== undefined && (from.protocol === 'https:' || from.protocol === 'http:');
    if (fixed !== undefined) {
      if (web && from!.origin === fixed) return;
      throw new ForbiddenError(`${header}: must be this site (${fixed}) for a post to the form; got ${quote(value)}`, header);
    }
    let own: string | undefined;
    try {
      // The Host read in the sender's scheme, so a default port is dropped the same way on both sides.
      own = web && request.host !== '' ? new URL(`${from!.protocol}//${request.host}`).host : undefined;
    } catch {
      own = undefined;
    }
    if (own !== undefined && from!.host === own) return;
    throw new ForbiddenError(`${header}: must be this site (${request.host || 'no Host header'}) for a post to the form; got ${quote(value)}`, header);
  };

  return async (request) => {
    const { origin, referer } = request.headers;
    if (origin !== undefined) check(request, 'Origin', origin);
    else if (referer !== undefined) check(request, 'Referer', referer);
  };
}
