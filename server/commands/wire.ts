// Errors as plain data, so a command's error crosses from the writer thread and is answered as if
// thrown here: a KeptError keeps its class (the handlers and adapters test `instanceof`), its status,
// code, field and rule; anything else keeps its name, message, stack and SQLite code (a logged 500).
import { ConflictError, KeptError, NotFoundError, UnavailableError, UnprocessableError, ValidationError } from '../errors.js';
import { ContactError } from '../domain/model.js';

export interface WireError {
  name: string;
  message: string;
  stack?: string;
  /** A KeptError's answer. */
  kept?: { status: number; code: string; field?: string; rule?: string; retryAfter?: number; extra?: Record<string, unknown> };
  /** A SQLite error's code (SQLITE_CONSTRAINT_…). */
  code?: string;
}

export function errorToWire(e: unknown): WireError {
  if (e instanceof KeptError) {
    return {
      name: e.name,
      message: e.message,
      ...(e.stack !== undefined ? { stack: e.stack } : {}),
      kept: {
        status: e.status,
        code: e.code,
        ...(e.field !== undefined ? { field: e.field } : {}),
        ...(e.rule !== undefined ? { rule: e.rule } : {}),
        ...(e.retryAfter !== undefined ? { retryAfter: e.retryAfter } : {}),
        ...(e.extra !== undefined ? { extra: e.extra } : {}),
      },
    };
  }
  if (e instanceof Error) {
    const code = (e as { code?: unknown }).code;
    return { name: e.name, message: e.message, ...(e.stack !== undefined ? { stack: e.stack } : {}), ...(typeof code === 'string' ? { code } : {}) };
  }
  return { name: 'Error', message: String(e) };
}

export function errorFromWire(w: WireError): Error {
  let e: Error;
  const k = w.kept;
  if (k === undefined) {
    e = new Error(w.message);
    e.name = w.name;
    if (w.code !== undefined) (e as Error & { code: string }).code = w.code;
  } else if (k.field !== undefined && k.rule !== undefined && k.status === 400) {
    // ContactError and its kin: rebuilt with the field and rule (ValidationError.at keeps working).
    e = w.name === 'ContactError' ? new ContactError(k.field, k.rule, k.code, k.extra) : new ValidationError(k.field, k.rule, k.code, k.extra);
  } else if (w.name === 'UnprocessableError' && k.field !== undefined && k.rule !== undefined) {
    e = new UnprocessableError(k.field, k.rule, k.code);
  } else if (w.name === 'ConflictError') {
    e = new ConflictError(w.message, k.field);
  } else if (w.name === 'NotFoundError') {
    e = new NotFoundError(w.message, k.field, k.code);
  } else if (w.name === 'UnavailableError') {
    e = new UnavailableError(w.message, k.code, k.retryAfter);
  } else {
    e = new KeptError(k.status, k.code, w.message, {
      ...(k.field !== undefined ? { field: k.field } : {}),
      ...(k.rule !== undefined ? { rule: k.rule } : {}),
      ...(k.retryAfter !== undefined ? { retryAfter: k.retryAfter } : {}),
      ...(k.extra !== undefined ? { extra: k.extra } : {}),
    });
    e.name = w.name;
  }
  if (w.stack !== undefined) e.stack = w.stack;
  return e;
}
