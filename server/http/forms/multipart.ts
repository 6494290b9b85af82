// multipart/form-data (RFC 7578) for the web form routes (issue 13): text fields become form fields;
// files are listed (field, file name, type, size), never stored. Bounded: the body by
// KEPT_WEBFORM_BODY_LIMIT, the parts, the files (KEPT_WEBFORM_MAX_FILES) and each text field.
// Hand-written (one linear pass over a buffer) because @fastify/multipart and busboy are not installed.
import type { FastifyInstance } from 'fastify';
import { PayloadTooLargeError, ValidationError } from '../../errors.js';

export interface FormFile {
  field: string;
  filename: string;
  contentType: string;
  size: number;
}

/** What a multipart body becomes: the text fields, and the files listed. */
export interface MultipartForm {
  fields: Record<string, string>;
  files: FormFile[];
}

export const MAX_PARTS = 200;
const MAX_TEXT_FIELD = 64 * 1024;
const MAX_PART_HEADERS = 8 * 1024;

/** The boundary of a multipart/form-data Content-Type, or a 400 naming it. */
export function boundaryOf(contentType: string): string {
  const m = /;\s*boundary=(?:"([^"]{1,70})"|([^\s;]{1,70}))/i.exec(contentType);
  const b = m?.[1] ?? m?.[2];
  if (b === undefined) throw new ValidationError('Content-Type', 'multipart/form-data needs a boundary');
  return b;
}

/** A part's Content-Disposition parameter (name, filename), quoted or not. */
function param(disposition: string, key: string): string | undefined {
  const m = new RegExp(`;\\s*${key}="((?:[^"\\\\]|\\\\.){0,1000})"|;\\s*${key}=([^;\\s]{1,1000})`, 'i').exec(disposition);
  const v = m?.[1] ?? m?.[2];
  return v?.replace(/\\(.)/g, '$1');
}

/** Splits a multipart body. Throws 400 for a malformed body, 413 past the bounds. */
export function parseMultipart(body: Buffer, boundary: string, maxFiles: number): MultipartForm {
  const delimiter = Buffer.from(`--${boundary}`);
  const fields: Record<string, string> = Object.create(null) as Record<string, string>;
  const files: FormFile[] = [];
  let at = body.indexOf(delimiter);
  if (at === -1) throw new ValidationError('body', 'is not multipart/form-data with the given boundary');
  let parts = 0;
  for (;;) {
    at += delimiter.length;
    if (body[at] === 0x2d && body[at + 1] === 0x2d) break; // the closing delimiter
    if (body[at] === 0x0d && body[at + 1] === 0x0a) at += 2;
    const headerEnd = body.indexOf('\r\n\r\n', at);
    if (headerEnd === -1 || headerEnd - at > MAX_PART_HEADERS) throw new ValidationError('body', 'a part has no end to its headers');
    const headers = body.subarray(at, headerEnd).toString('latin1').split('\r\n');
    const start = headerEnd + 4;
    const next = body.indexOf(Buffer.from(`\r\n--${boundary}`), start);
    if (next === -1) throw new ValidationError('body', 'a part has no closing boundary');
    if (++parts > MAX_PARTS) throw new PayloadTooLargeError(`body: more than ${MAX_PARTS} parts`);
    const disposition = headers.find((h) => /^content-disposition:/i.test(h)) ?? '';
    const type = headers.find((h) => /^content-type:/i.test(h))?.replace(/^content-type:\s*/i, '') ?? 'text/plain';
    const name = param(disposition, 'name');
    const filename = param(disposition, 'filename');
    if (name === undefined || name === '') throw new ValidationError('body', 'a part has no name');
    const content = body.subarray(start, next);
    if (filename !== undefined) {
      if (filename !== '' || content.length > 0) {
        files.push({ field: name, filename: Buffer.from(filename, 'latin1').toString('utf8').slice(0, 255), contentType: type.slice(0, 100), size: content.length });
        if (files.length > maxFiles) throw new PayloadTooLargeError(`body: more than ${maxFiles} files (KEPT_WEBFORM_MAX_FILES)`, name);
      }
    } else {
      if (content.length > MAX_TEXT_FIELD) throw new PayloadTooLargeError(`${name}: a text field is over ${MAX_TEXT_FIELD} bytes`, name);
      if (!(name in fields)) fields[name] = content.toString('utf8');
    }
    at = next + 2;
  }
  return { fields: { ...fields }, files };
}

/** Registers the multipart parser in a scope (the web form routes), with its own body limit. */
export function registerMultipart(scope: FastifyInstance, bodyLimit: number, maxFiles: number): void {
  scope.addContentTypeParser('multipart/form-data', { parseAs: 'buffer', bodyLimit }, (request, body, done) => {
    try {
      const form = parseMultipart(body as Buffer, boundaryOf(request.headers['content-type'] ?? ''), maxFiles);
      done(null, { ...form.fields, [FILES_KEY]: form.files });
    } catch (e) {
      done(e as Error, undefined);
    }
  });
}

/** Where the parsed body carries its files (a key no form field can have: forms cannot post a symbol). */
export const FILES_KEY = Symbol.for('kept.webform.files');

export function filesOf(body: unknown): FormFile[] {
  return body !== null && typeof body === 'object' ? ((body as Record<symbol, FormFile[] | undefined>)[FILES_KEY] ?? []) : [];
}
