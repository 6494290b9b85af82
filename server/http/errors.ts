// One error handler: every client mistake is a 4xx naming the field and the rule, never a 500.
import type { FastifyError, FastifyInstance } from 'fastify';
import { CalendarError } from '../domain/calendar.js';
import { HolidayFileError } from '../domain/holidays.js';
import { ContactError } from '../domain/model.js';
import { PackError } from '../domain/standards.js';
import { ConflictError, NotFoundError } from '../ingest/service.js';

export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

const REASONS: Record<number, string> = { 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 409: 'Conflict', 413: 'Payload Too Large', 415: 'Unsupported Media Type', 429: 'Too Many Requests', 500: 'Internal Server Error' };

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

function describeValidation(errors: AjvError[], context: string): { field: string; rule: string } {
  // Prefer the most specific error: a missing or unknown property, then an enum, then the first.
  const pick = errors.find((e) => e.keyword === 'required' || e.keyword === 'additionalProperties') ?? errors.find((e) => e.keyword === 'const' || e.keyword === 'enum') ?? errors[0]!;
  const missing = pick.keyword === 'required' ? String(pick.params.missingProperty) : pick.keyword === 'additionalProperties' ? String(pick.params.additionalProperty) : undefined;
  const field = fieldOf(pick.instancePath, missing) || context;
  if (pick.keyword === 'required') return { field, rule: 'is required' };
  if (pick.keyword === 'additionalProperties') return { field, rule: 'is not a known field' };
  if (pick.keyword === 'const' || pick.keyword === 'anyOf') {
    const allowed = errors.filter((e) => e.instancePath === pick.instancePath && e.keyword === 'const').map((e) => String(e.params.allowedValue));
    if (allowed.length > 0) return { field, rule: `must be one of ${allowed.join(', ')}` };
  }
  return { field, rule: pick.message ?? 'is invalid' };
}

export function registerErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError & { validation?: AjvError[]; validationContext?: string }, request, reply) => {
    let status = 500;
    let message = 'Internal error';
    let field: string | undefined;
    let rule: string | undefined;
    if (error.validation) {
      status = 400;
      const d = describeValidation(error.validation, error.validationContext ?? 'body');
      field = d.field;
      rule = d.rule;
      message = `${field}: ${rule}`;
    } else if (error instanceof ContactError) {
      status = 400;
      field = error.field;
      rule = error.rule;
      message = error.message;
    } else if (error instanceof PackError || error instanceof CalendarError || error instanceof HolidayFileError) {
      status = 400;
      message = error.message;
    } else if (error instanceof NotFoundError) {
      status = 404;
      message = error.message;
    } else if (error instanceof ConflictError) {
      status = 409;
      message = error.message;
    } else if (error instanceof HttpError) {
      status = error.statusCode;
      message = error.message;
      field = error.field;
    } else if (typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500) {
      status = error.statusCode;
      message = error.code === 'FST_ERR_CTP_BODY_TOO_LARGE' ? `request body is larger than the limit of ${request.routeOptions.bodyLimit ?? 'the server'} bytes` : error.message;
    }
    if (status >= 500) request.log.error({ err: error }, 'request failed');
    const body: Record<string, unknown> = { statusCode: status, error: REASONS[status] ?? 'Error', message };
    if (field !== undefined) body.field = field;
    if (rule !== undefined) body.rule = rule;
    void reply.status(status).send(body);
  });
  app.setNotFoundHandler((request, reply) => {
    void reply.status(404).send({ statusCode: 404, error: 'Not Found', message: `no route ${request.method} ${request.url.split('?')[0]}` });
  });
}
