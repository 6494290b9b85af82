// Every error Kept answers with: one class per kind, each with its HTTP status, a stable `code`
// integrators can switch on, and (for bad input) the `field` path and the `rule` it broke.
// The domain throws these too (they carry no HTTP machinery, only a number), so the error
// handler is a lookup, never an `instanceof` ladder, and nobody re-parses message text.

export interface ErrorDetails {
  /** The input's path, e.g. `events[0].at`, `X-Hub-Signature-256`, `body`. */
  field?: string;
  /** What is wrong with it, e.g. `is required`. The message is `field: rule`. */
  rule?: string;
  /** Seconds a client should wait before trying again (429, 503). */
  retryAfter?: number;
  /** Extra machine-readable facts for the answer (e.g. the accepted media types). */
  extra?: Record<string, unknown>;
}

export class KeptError extends Error {
  readonly field: string | undefined;
  readonly rule: string | undefined;
  readonly retryAfter: number | undefined;
  readonly extra: Record<string, unknown> | undefined;
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    details: ErrorDetails = {},
  ) {
    super(message);
    this.name = new.target.name;
    this.field = details.field;
    this.rule = details.rule;
    this.retryAfter = details.retryAfter;
    this.extra = details.extra;
  }
}

/** One step of a field path: a property name or an array index. */
export type PathStep = string | number;

/** `events[0].at` → ['events', 0, 'at']. One linear pass; a name with dots or brackets in it stays whole. */
export function parseFieldPath(field: string): PathStep[] {
  const steps: PathStep[] = [];
  let name = '';
  for (let i = 0; i < field.length; i++) {
    const c = field[i]!;
    if (c === '.') {
      if (name !== '') steps.push(name);
      name = '';
    } else if (c === '[') {
      const close = field.indexOf(']', i);
      const index = close === -1 ? '' : field.slice(i + 1, close);
      if (close === -1 || !/^\d{1,9}$/.test(index)) {
        name += c;
        continue;
      }
      if (name !== '') steps.push(name);
      name = '';
      steps.push(Number(index));
      i = close;
    } else name += c;
  }
  if (name !== '') steps.push(name);
  return steps;
}

/** ['events', 0, 'at'] → `events[0].at` */
export function formatFieldPath(path: readonly PathStep[]): string {
  return path.reduce<string>((acc, step) => (typeof step === 'number' ? `${acc}[${step}]` : acc === '' ? step : `${acc}.${step}`), '');
}

/** Bad input: names the field and the rule; the message is `field: rule`; `path` is the field, structured. */
export class ValidationError extends KeptError {
  declare readonly field: string;
  declare readonly rule: string;
  readonly path: readonly PathStep[];
  constructor(field: string, rule: string, code = 'invalid', extra?: Record<string, unknown>) {
    super(400, code, `${field}: ${rule}`, { field, rule, ...(extra !== undefined ? { extra } : {}) });
    this.path = parseFieldPath(field);
  }

  /** The same error at another path (an adapter naming its own field for the service's). */
  at(path: readonly PathStep[]): ValidationError {
    const Same = this.constructor as new (field: string, rule: string, code?: string, extra?: Record<string, unknown>) => ValidationError;
    return new Same(formatFieldPath(path), this.rule, this.code, this.extra);
  }
}

/** Input that was read but cannot be acted on as it stands (e.g. a holiday file that would drop holidays). */
export class UnprocessableError extends KeptError {
  constructor(field: string, rule: string, code = 'unprocessable') {
    super(422, code, `${field}: ${rule}`, { field, rule });
  }
}

export class NotFoundError extends KeptError {
  constructor(message: string, field?: string, code = 'not-found') {
    super(404, code, message, field === undefined ? {} : { field });
  }
}

export class ConflictError extends KeptError {
  constructor(message: string, field?: string) {
    super(409, 'conflict', message, field === undefined ? {} : { field });
  }
}

export class UnauthorizedError extends KeptError {
  constructor(message: string, field?: string) {
    super(401, 'unauthorized', message, field === undefined ? {} : { field });
  }
}

export class ForbiddenError extends KeptError {
  constructor(message: string, field?: string, code = 'forbidden') {
    super(403, code, message, field === undefined ? {} : { field });
  }
}

export class PayloadTooLargeError extends KeptError {
  constructor(message: string, field = 'body') {
    super(413, 'too-large', message, { field });
  }
}

export class UnsupportedMediaTypeError extends KeptError {
  constructor(given: string, accepted: readonly string[]) {
    super(415, 'unsupported-media-type', `Content-Type: ${given === '' ? 'missing' : `"${given}" is not accepted`}; send one of ${accepted.join(', ')}`, {
      field: 'Content-Type',
      extra: { accepted: [...accepted] },
    });
  }
}

export class TooManyRequestsError extends KeptError {
  constructor(message: string, retryAfter: number) {
    super(429, 'rate-limited', message, { retryAfter });
  }
}

/** A fault that is not the client's: the reason is told, never a bare 500. */
export class UnavailableError extends KeptError {
  constructor(message: string, code = 'unavailable', retryAfter = 1) {
    super(503, code, message, { retryAfter });
  }
}

/** The reason phrase for each status Kept answers with. */
export const REASONS: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  409: 'Conflict',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Entity',
  429: 'Too Many Requests',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};
