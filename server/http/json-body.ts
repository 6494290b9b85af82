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

const isHex = (c: number) => (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);

/**
 * Where JSON.parse stopped, for its messages that do not say (V8 quotes a piece of the body instead
 * of a position for an unexpected token): -1 when the text is JSON. One pass with an explicit stack
 * of open containers: linear, and no recursion however deep the nesting.
 */
export function jsonErrorPosition(s: string): number {
  const n = s.length;
  const open: string[] = []; // '{' or '['
  let i = 0;
  const space = () => {
    while (i < n && ' \t\n\r'.includes(s[i]!)) i++;
  };
  const digits = () => {
    const from = i;
    while (i < n && s[i]! >= '0' && s[i]! <= '9') i++;
    return i > from;
  };
  /** A string at i; false leaves i at the fault. */
  const string = (): boolean => {
    for (i++; i < n; ) {
      const c = s.charCodeAt(i);
      if (c === 0x22) return (i++, true);
      if (c < 0x20) return false;
      if (c !== 0x5c) i++;
      else if (s[i + 1] === 'u') {
        for (let k = 2; k < 6; k++) if (!isHex(s.charCodeAt(i + k))) return ((i += k), false);
        i += 6;
      } else if (s[i + 1] !== undefined && '"\\/bfnrt'.includes(s[i + 1]!)) i += 2;
      else return (i++, false);
    }
    return false;
  };
  /** A number, true, false, null or string at i; false leaves i at the fault. */
  const scalar = (): boolean => {
    const c = s[i];
    if (c === '"') return string();
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) {
      if (s[i] === '-') i++;
      if (s[i] === '0') i++;
      else if (!digits()) return false;
      if (s[i] === '.' && (i++, !digits())) return false;
      if (s[i] === 'e' || s[i] === 'E') {
        i++;
        if (s[i] === '+' || s[i] === '-') i++;
        if (!digits()) return false;
      }
      return true;
    }
    const word = c === 't' ? 'true' : c === 'f' ? 'false' : c === 'n' ? 'null' : undefined;
    if (word === undefined) return false;
    for (let k = 0; k < word.length; k++, i++) if (s[i] !== word[k]) return false;
    return true;
  };
  let expect: 'value' | 'key' | 'after' = 'value';
  for (;;) {
    space();
    if (expect === 'value') {
      const c = s[i];
      if (c === '{' || c === '[') {
        open.push(c);
        i++;
        space();
        if (s[i] === (c === '{' ? '}' : ']')) {
          open.pop();
          i++;
          expect = 'after';
        } else expect = c === '{' ? 'key' : 'value';
      } else if (scalar()) expect = 'after';
      else return i;
    } else if (expect === 'key') {
      if (s[i] !== '"' || !string()) return i;
      space();
      if (s[i] !== ':') return i;
      i++;
      expect = 'value';
    } else {
      const top = open[open.length - 1];
      if (top === undefined) return i < n ? i : -1;
      if (s[i] === ',') {
        i++;
        expect = top === '{' ? 'key' : 'value';
      } else if (s[i] === (top === '{' ? '}' : ']')) {
        open.pop();
        i++;
      } else return i;
    }
  }
}

/**
 * The parser's complaint with a position, never a quoted piece of the body: Node 20's V8 says
 * "at position N" for some faults and quotes the text for others, so the position is found here.
 */
function jsonFault(text: string, e: unknown): string {
  const message = e instanceof Error ? e.message : String(e);
  if (/ at position \d+/.test(message) && !message.includes('"')) return message;
  const at = jsonErrorPosition(text);
  if (at < 0) return message;
  return at >= text.length ? `Unexpected end of JSON input at position ${at}` : `Unexpected token ${JSON.stringify(text[at])} at position ${at}`;
}

/** Parses a JSON body as text, or throws a ValidationError naming `body` (with the position of the fault). */
export function parseJsonBody(text: string, root = 'body'): unknown {
  if (text.trim() === '') throw new ValidationError(root, 'is empty: send a JSON document', 'invalid-json');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new ValidationError(root, `is not valid JSON: ${jsonFault(text, e)}`, 'invalid-json');
  }
  const forbidden = forbiddenKeyPath(value, root);
  if (forbidden !== undefined) throw new ValidationError(forbidden, 'is a key Kept refuses (__proto__, constructor and prototype could change how the payload is read)', 'forbidden-key');
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
