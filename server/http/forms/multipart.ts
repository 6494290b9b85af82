// multipart/form-data (RFC 7578) for the web form routes (issue 13): text fields become form fields;
// files are listed (field, file name, type, size) and never stored — their bytes are counted as they
// stream past and dropped. Parsed by @fastify/busboy (the Fastify team's maintained streaming parser,
// which @fastify/multipart itself uses) rather than by hand. Bounded: the body by
// KEPT_WEBFORM_BODY_LIMIT, the parts, the files (KEPT_WEBFORM_MAX_FILES) and each text field.
import { Busboy, type BusboyFileStream, type BusboyInstance } from '@fastify/busboy';
import type { FastifyInstance } from 'fastify';
import type { Readable } from 'node:stream';
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

/** Reads a multipart body from its stream. Rejects with 400 for a malformed body, 413 past the bounds. */
export function parseMultipart(body: Readable, contentType: string, o: { maxFiles: number; bodyLimit: number }): Promise<MultipartForm> {
  return new Promise((resolve, reject) => {
    if (!/;\s*boundary=/i.test(contentType)) return reject(new ValidationError('Content-Type', 'multipart/form-data needs a boundary'));
    const fields: Record<string, string> = Object.create(null) as Record<string, string>;
    const files: FormFile[] = [];
    let failed = false;
    let received = 0;
    const fail = (e: Error) => {
      if (failed) return;
      failed = true;
      body.unpipe();
      body.resume(); // drain what is left, so the connection can answer
      reject(e);
    };
    let parser: BusboyInstance;
    try {
      parser = Busboy({
        headers: { 'content-type': contentType },
        // One more than allowed, so going past a bound is seen (busboy then stops emitting).
        limits: { parts: MAX_PARTS + 1, files: o.maxFiles + 1, fieldSize: MAX_TEXT_FIELD, fieldNameSize: 200, headerSize: MAX_PART_HEADERS },
      });
    } catch {
      return reject(new ValidationError('Content-Type', 'multipart/form-data needs a boundary'));
    }
    let parts = 0;
    const counted = () => {
      if (++parts > MAX_PARTS) fail(new PayloadTooLargeError(`body: more than ${MAX_PARTS} parts`));
    };
    parser.on('file', (field: string, stream: BusboyFileStream, filename: string, _encoding: string, mimeType: string) => {
      counted();
      let size = 0;
      stream.on('data', (chunk: Buffer) => (size += chunk.length));
      stream.on('end', () => {
        if (failed || (filename === '' && size === 0)) return; // an empty file input: nothing chosen
        files.push({ field, filename: filename.slice(0, 255), contentType: (mimeType || 'application/octet-stream').slice(0, 100), size });
        if (files.length > o.maxFiles) fail(new PayloadTooLargeError(`body: more than ${o.maxFiles} files (KEPT_WEBFORM_MAX_FILES)`, field));
      });
    });
    parser.on('field', (name: string, value: string, _nameTruncated: boolean, valueTruncated: boolean) => {
      counted();
      if (name === '') return fail(new ValidationError('body', 'a part has no name'));
      if (valueTruncated) return fail(new PayloadTooLargeError(`${name}: a text field is over ${MAX_TEXT_FIELD} bytes`, name));
      if (!(name in fields)) fields[name] = value;
    });
    parser.on('filesLimit', () => fail(new PayloadTooLargeError(`body: more than ${o.maxFiles} files (KEPT_WEBFORM_MAX_FILES)`)));
    parser.on('partsLimit', () => fail(new PayloadTooLargeError(`body: more than ${MAX_PARTS} parts`)));
    parser.on('error', (e: unknown) => fail(new ValidationError('body', `is not readable multipart/form-data (${e instanceof Error ? e.message : String(e)})`)));
    parser.on('finish', () => {
      if (!failed) resolve({ fields: { ...fields }, files });
    });
    body.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (received > o.bodyLimit) fail(new PayloadTooLargeError(`body: over ${o.bodyLimit} bytes (KEPT_WEBFORM_BODY_LIMIT)`));
    });
    body.on('error', (e) => fail(e));
    body.pipe(parser);
  });
}

/** Registers the multipart parser in a scope (the web form routes), with its own body limit. */
export function registerMultipart(scope: FastifyInstance, bodyLimit: number, maxFiles: number): void {
  scope.addContentTypeParser('multipart/form-data', { bodyLimit }, (request, payload, done) => {
    parseMultipart(payload, request.headers['content-type'] ?? '', { maxFiles, bodyLimit }).then(
      (form) => done(null, { ...form.fields, [FILES_KEY]: form.files }),
      (e: Error) => done(e, undefined),
    );
  });
}

/** Where the parsed body carries its files (a key no form field can have: forms cannot post a symbol). */
export const FILES_KEY = Symbol.for('kept.webform.files');

export function filesOf(body: unknown): FormFile[] {
  return body !== null && typeof body === 'object' ? ((body as Record<symbol, FormFile[] | undefined>)[FILES_KEY] ?? []) : [];
}
