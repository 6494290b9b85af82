// The public form's rate limit: @fastify/rate-limit per client address, with the two answers a 429 needs (the form again for a browser, JSON for a script).
import rateLimit, { type RateLimitOptions } from '@fastify/rate-limit';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { TooManyRequestsError } from '../../errors.js';
import { formPage, postedFields, RATE_LIMITED_MESSAGE, sendPage, wantsPagesFromForm } from '../forms/contact-page.js';

/**
 * Addresses remembered at once (the store is an LRU: past this, the address seen longest ago is
 * forgotten, one at a time, never everyone). Twice the 10,000 at which the old hand-made limiter
 * forgot every address; an entry is a few hundred bytes, so this is a few MB at most. An address
 * that keeps posting is always the most recently seen, so it is never the one forgotten.
 */
export const FORM_RATE_LIMIT_ADDRESSES = 20_000;
const WINDOW_MS = 60_000;

/**
 * Makes route-level `config.rateLimit` work in `scope`: registers @fastify/rate-limit with
 * `{ global: false }` unless the app already has (its decorator shows it), so routes without a
 * `rateLimit` config are untouched either way.
 */
export async function formRateLimit(scope: FastifyInstance): Promise<void> {
  if (!scope.hasDecorator('createRateLimit')) await scope.register(rateLimit, { global: false });
}

/**
 * The public form POST's `config.rateLimit`: `perMinute` posts a minute per address (IPv6 counted
 * per /64, the plugin's default). It runs at preValidation, after the body is read, so a browser
 * held back gets its answers back in the form instead of losing them. The plugin sets
 * `Retry-After` to the seconds left in the address's minute.
 */
export function formPostRateLimit(perMinute: number, addresses = FORM_RATE_LIMIT_ADDRESSES): RateLimitOptions {
  return {
    max: perMinute,
    timeWindow: WINDOW_MS,
    cache: addresses,
    hook: 'preValidation',
    errorResponseBuilder: (_request, context) => {
      const seconds = Math.max(1, Math.ceil(context.ttl / 1000));
      return new TooManyRequestsError(`too many posts to the form from this address (${context.max} a minute): wait ${seconds} s`, seconds);
    },
  };
}

/**
 * The public form POST's error handler: a browser held back by the rate limit gets the form again
 * with what it typed and the friendly message (status 429, with the plugin's Retry-After). Any
 * other error, and every error for a script, goes on to the app's handler (JSON
 * `{statusCode, error, message}`): rethrowing hands it to the parent's handler.
 */
export async function formErrorHandler(error: FastifyError | Error, request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  if (error instanceof TooManyRequestsError && wantsPagesFromForm(request)) {
    return sendPage(reply, 429, formPage({ values: postedFields(request.body), error: RATE_LIMITED_MESSAGE, notice: await request.server.publicNotice(Date.now()) }));
  }
  throw error;
}
