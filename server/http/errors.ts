// One error handler: a KeptError answers as it says; schema and Fastify errors are translated once
// into the same shape; a database fault is a 503 naming the cause; anything else is a logged 500.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { KeptError, PayloadTooLargeError, REASONS, UnsupportedMediaTypeError, ValidationError } from '../errors.js';
import { databaseFault, faultError } from '../store/faults.js';
import { pgFault, pgFaultError } from '../store/pg/writer-faults.js';

/** `/events/0/at` → `events[0].at` */
function fieldOf(instancePath: string, missing?: string): string {
  const parts = instancePath.split('/').filter((p) => p !== '');
  if (missing !== undefined) parts.push(missing);
  return parts.reduce((acc, p) => (/^\d+$/.test(p) ? `${acc}[${p}]` : acc === '' ? p : `${acc}.${p}`), '');
}

interface AjvError {
  instancePath: string;
  keyword: string;
  message?: string;
  params: Record<string, unknown>;
}

/** The most useful of a schema's complaints: a missing or unknown property, then an enum, then the first. */
export function validationError(errors: AjvError[], context: string): ValidationError {
  const pick = errors.find((e) => e.keyword === 'required' || e.keyword === 'additionalProperties') ?? errors.find((e) => e.keyword === 'const' || e.keyword === 'enum') ?? errors[0]!;
  const missing = pick.keyword === 'required' ? String(pick.params.missingProperty) : pick.keyword === 'additionalProperties' ? String(pick.params.additionalProperty) : undefined;
  const path = fieldOf(pick.instancePath, missing);
  // A body that is an array names its items from the body: `body[0].type`, never a bare `[0].type`.
  const field = path === '' ? context : path.startsWith('[') ? `${context}${path}` : path;
  if (pick.keyword === 'required') return new ValidationError(field, 'is required', 'required');
  if (pick.keyword === 'additionalProperties') return new ValidationError(field, 'is not a known field', 'unknown-field');
  if (pick.keyword === 'const' || pick.keyword === 'anyOf') {
    const allowed = errors.filter((e) => e.instancePath === pick.instancePath && e.keyword === 'const').map((e) => String(e.params.allowedValue));
    if (allowed.length > 0) return new ValidationError(field, `must be one of ${allowed.join(', ')}`, 'not-allowed');
  }
  return new ValidationError(field, pick.message ?? 'is invalid');
}

/** SQLite's own codes for faults that are nobody's input (the table lives with the writer, which reports them too). */
export { databaseFault } from '../store/faults.js';

/** The media types a route takes (its schema's `consumes`, else JSON). */
function accepted(request: FastifyRequest): string[] {
  const consumes = (request.routeOptions.schema as { consumes?: string[] } | undefined)?.consumes;
  return consumes ?? ['application/json'];
}

/** Any error → a KeptError (or undefined: a fault of Kept's own, answered 500). */
export function toKeptError(error: FastifyError & { validation?: AjvError[]; validationContext?: string }, request: FastifyRequest): KeptError | undefined {
  if (error instanceof KeptError) return error;
  if (error.validation) return validationError(error.validation, error.validationContext ?? 'body');
  const sqlite = databaseFault(error.code);
  if (sqlite !== undefined) return faultError(sqlite);
  // PostgreSQL (KEPT_DATABASE_URL): a read or write that met the database down, full or busy.
  const pg = pgFault(error);
  if (pg !== undefined) return pgFaultError(pg);
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new PayloadTooLargeError(`body: is larger than the limit of ${request.routeOptions.bodyLimit ?? 'the server'} bytes`);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new UnsupportedMediaTypeError(request.headers['content-type'] ?? '', accepted(request));
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new ValidationError('body', 'is empty: send a JSON document', 'invalid-json');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new KeptError(400, 'invalid-content-length', 'Content-Length: does not match the body sent', { field: 'Content-Length' });
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new ValidationError('body', `is not valid JSON: ${error.message}`, 'invalid-json');
    default:
  }
  if (typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500) {
    return new KeptError(error.statusCode, (error.code ?? 'bad-request').toLowerCase(), error.message);
  }
  return undefined;
}

/** The error body every route answers with: `{statusCode, error, code, message, field?, rule?, …}`. */
export function sendError(reply: FastifyReply, e: KeptError): FastifyReply {
  const body: Record<string, unknown> = { statusCode: e.status, error: REASONS[e.status] ?? 'Error', code: e.code, message: e.message };
  if (e.field !== undefined) body.field = e.field;
  if (e.rule !== undefined) body.rule = e.rule;
  if (e.extra !== undefined) Object.assign(body, e.extra);
  if (e.retryAfter !== undefined) void reply.header('retry-after', String(e.retryAfter));
  // Serialised as itself, never by the route's schema for that status: a route whose 503 is its own
  // shape (/health's) would fail to serialise an error body and answer 500 instead. Found when a
  // token's check met PostgreSQL restarting during GET /api/v1/health (tests/integration/pg-restart.test.ts).
  return reply.status(e.status).serializer(JSON.stringify).send(body);
}

export function registerErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError & { validation?: AjvError[]; validationContext?: string }, request, reply) => {
    const e = toKeptError(error, request);
    if (e === undefined) {
      request.log.error({ err: error }, 'request failed');
      return reply.status(500).send({ statusCode: 500, error: REASONS[500], code: 'internal', message: 'Internal error: the cause is in the server log' });
    }
    if (e.status >= 500) request.log.warn({ code: e.code }, e.message);
    return sendError(reply, e);
  });
  app.setNotFoundHandler((request, reply) => {
    void reply.status(404).send({ statusCode: 404, error: 'Not Found', code: 'no-route', message: `no route ${request.method} ${request.url.split('?')[0]!.slice(0, 200)}` });
  });
}
