// The JSON body parser: UTF-8 only, parse errors with their position, and keys that could poison
// an object's prototype (`__proto__`, `constructor`) refused by name and path. Linear in the body.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { UnsupportedMediaTypeError, ValidationError } from '../errors.js';

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** The `charset` parameter of a Content-Type, lower-cased, or undefined. Linear: split, no regex. */
export function charsetOf(contentType: string | undefined): string | undefined {
  if (contentType === undefined) return undefined;
  for (const part of contentType.split(';').slice(1)) {
    const eq = part.indexOf('=');
    if (eq === -1) continue;
    if (part.slice(0, eq).trim().toLowerCase() !== 'charset') continue;
    return part
      .slice(eq + 1)
      .trim()
      .replace(/^"(.*)"$/, '$1')
      .toLowerCase();
  }
  return undefined;
}

/** Refuses any charset but UTF-8 (JSON is UTF-8: RFC 8259 §8.1), naming the one given. */
export function requireUtf8(request: FastifyRequest, accepted: readonly string[]): void {
  const charset = charsetOf(request.headers['content-type']);
  if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') {
    throw new UnsupportedMediaTypeError(`${request.headers['content-type']}`, accepted.map((t) => `${t}; charset=utf-8`));
  }
}

/** `body.customer.name`, `body[2].at` */
const pathOf = (parent: string, key: string | number) => (typeof key === 'number' ? `${parent}[${key}]` : `${parent}.${key}`);

/** The first forbidden key's path, walking the parsed value once (an explicit stack: no recursion limit). */
export function forbiddenKeyPath(value: unknown, root = 'body'): string | undefined {
  const stack: Array<[unknown, string]> = [[value, root]];
  while (stack.length > 0) {
    const [v, path] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push([v[i], pathOf(path, i)]);
      continue;
    }
    for (const k of Object.keys(v)) {
      if (FORBIDDEN_KEYS.has(k)) return pathOf(path, k);
      stack.push([(v as Record<string, unknown>)[k], pathOf(path, k)]);
    }
  }
  return undefined;
}

/** Parses a JSON body as text, or throws a ValidationError naming `body` (with the parser's position). */
export function parseJsonBody(text: string, root = 'body'): unknown {
  if (text.trim() === '') throw new ValidationError(root, 'is empty: send a JSON document', 'invalid-json');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new ValidationError(root, `is not valid JSON: ${(e as Error).message}`, 'invalid-json');
  }
  const forbidden = forbiddenKeyPath(value, root);
  if (forbidden !== undefined) throw new ValidationError(forbidden, 'keys named __proto__, constructor or prototype are refused', 'forbidden-key');
  return value;
}

export function registerJsonParser(app: FastifyInstance): void {
  // No route takes plain text: without this, Fastify's own text/plain parser would hand a route a string (a 400, not a 415).
  app.removeContentTypeParser(['application/json', 'text/plain']);
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    try {
      requireUtf8(request, ['application/json']);
      done(null, parseJsonBody(body as string));
    } catch (e) {
      done(e as Error, undefined);
    }
  });
}
