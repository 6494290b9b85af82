// The public contact form as HTML: the page, its wording, its stylesheet file and how a page is sent.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ContactError } from '../../domain/model.js';
import { FIELD_LIMITS, HONEYPOT, type FormField, type FormFields } from '../../ingest/webform.js';

export const FORM_PATH = '/forms/contact';
export const SENT_PATH = `${FORM_PATH}?sent=1`;
export const STYLESHEET_PATH = '/forms/contact.css';

/** Shown with the form again when an address has posted too often. */
export const RATE_LIMITED_MESSAGE = 'You have sent several messages in the last minute. Wait a minute, then send your message again.';

/**
 * Sent only when the app has not already set a policy (helmet does, for every route). It is the
 * app's policy minus what the page does not use, so the page works the same with or without helmet.
 */
const FALLBACK_CSP = "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'";

// ---------------------------------------------------------------------------------------------
// The stylesheet

/** The stylesheet, read once at start-up: a missing file stops Kept at boot, not a visitor later. */
export function loadStylesheet(): { css: Buffer; etag: string } {
  const css = readFileSync(new URL('./contact-form.css', import.meta.url));
  return { css, etag: `"${createHash('sha256').update(css).digest('base64url').slice(0, 27)}"` };
}

// ---------------------------------------------------------------------------------------------
// The page

const esc = (s: unknown) => (typeof s === 'string' ? s : '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const LABELS: Record<FormField, string> = {
  formType: 'What is it about?',
  subject: 'Subject',
  message: 'Your message (required)',
  name: 'Your name',
  email: 'Email address',
  phone: 'Phone number',
  address: 'Postal address',
  reference: 'Tenancy reference',
  preferredContact: 'How would you like us to reply?',
  accessibilityNeeds: 'Anything that would help us contact you',
  submissionId: 'Submission id',
  submittedAt: 'Submitted at',
};


/** The error as a person should read it: what to do, in plain words. */
function friendly(e: ContactError): string {
  const field = e.field as FormField;
  const either = 'or choose another way for us to reply';
  // Decided by the error's code and facts, never by reading its wording.
  if (e.code === 'too-long') return `${(LABELS[field] ?? e.field).replace(' (required)', '')} must be ${String(e.extra?.maxLength)} characters or fewer`;
  switch (field) {
    case 'message':
      return 'Enter your message';
    case 'formType':
      return 'Choose what your message is about';
    case 'preferredContact':
      return 'Choose how you would like us to reply';
    case 'email':
      return e.code === 'required' ? `Enter your email address, ${either}` : 'Enter an email address in the correct format, like name@example.com';
    case 'phone':
      return e.code === 'required' ? `Enter your phone number, ${either}` : 'Enter a phone number, like 01632 960 001 or 07700 900 982';
    case 'address':
      return `Enter your postal address, ${either}`;
    default:
      return `${LABELS[field] ?? e.field}: ${e.rule}`;
  }
}

export interface PageState {
  values?: FormFields;
  /** A field error (linked to its field), or a message for the whole form. */
  error?: ContactError | string;
  sent?: boolean;
  /** An admin's public notice in force (technical issues, adverse weather), shown above the form. */
  notice?: { title: string; message: string; endsAt: string } | null;
}

/**
 * The form, the form with an error, or the thank-you page. No inline style or script anywhere
 * (the CSP allows neither): the look is the linked stylesheet and classes only.
 */
export function formPage({ values = {}, error, sent = false, notice = null }: PageState): string {
  const fieldError = error instanceof ContactError ? error : undefined;
  const errorText = error === undefined ? undefined : error instanceof ContactError ? friendly(error) : error;
  const errorOn = (name: string) => fieldError?.field === name;
  const v = (name: string) => esc(values[name]);
  const errorLine = (name: string) => (errorOn(name) ? `<p class="error-message" id="${name}-error"><span class="visually-hidden">Error:</span> ${esc(errorText)}</p>` : '');
  const describedBy = (name: string, hint: boolean) => {
    const ids = [hint ? `${name}-hint` : '', errorOn(name) ? `${name}-error` : ''].filter((s) => s !== '');
    return ids.length > 0 ? ` aria-describedby="${ids.join(' ')}"` : '';
  };
  const group = (name: string, inner: string) => `<div class="group${errorOn(name) ? ' invalid' : ''}">${inner}</div>`;
  const input = (name: FormField, type: string, autocomplete: string, hint = '') =>
    group(
      name,
      `<label for="${name}">${LABELS[name]}</label>${hint ? `<span class="hint" id="${name}-hint">${hint}</span>` : ''}${errorLine(name)}` +
        `<input id="${name}" name="${name}" type="${type}" maxlength="${FIELD_LIMITS[name]}" value="${v(name)}"${autocomplete ? ` autocomplete="${autocomplete}"` : ''}${type === 'email' ? ' spellcheck="false"' : ''}${describedBy(name, hint !== '')}${errorOn(name) ? ' aria-invalid="true"' : ''}>`,
    );
  const textarea = (name: FormField, rows: number, autocomplete: string, hint = '', required = false) =>
    group(
      name,
      `<label for="${name}">${LABELS[name]}</label>${hint ? `<span class="hint" id="${name}-hint">${hint}</span>` : ''}${errorLine(name)}` +
        `<textarea id="${name}" name="${name}" rows="${rows}" maxlength="${FIELD_LIMITS[name]}"${autocomplete ? ` autocomplete="${autocomplete}"` : ''}${required ? ' required' : ''}${describedBy(name, hint !== '')}${errorOn(name) ? ' aria-invalid="true"' : ''}>${v(name)}</textarea>`,
    );
  const radios = (name: FormField, options: Array<[string, string]>, selected: string, hint = '') =>
    `<fieldset class="${errorOn(name) ? 'invalid' : ''}"${describedBy(name, hint !== '')}><legend>${LABELS[name]}</legend>${hint ? `<span class="hint" id="${name}-hint">${hint}</span>` : ''}${errorLine(name)}` +
    options
      .map(([value, label], i) => {
        const id = i === 0 ? name : `${name}-${value || 'none'}`;
        return `<div class="choice"><input type="radio" id="${id}" name="${name}" value="${value}"${selected === value ? ' checked' : ''}><label for="${id}">${label}</label></div>`;
      })
      .join('') +
    '</fieldset>';
  const str = (name: string, fallback: string) => (typeof values[name] === 'string' ? (values[name] as string) : fallback);

  const head = (title: string) =>
    `<!doctype html><html lang="en-GB"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${title}</title><link rel="stylesheet" href="${STYLESHEET_PATH}"></head><body><main id="main">`;
  const replyTimes =
    '<p>We reply to messages within one working day. We acknowledge complaints within 24 hours. Our working hours are Monday to Friday, 8am to 5pm, except bank holidays.</p>';

  const noticeBlock = notice === null ? '' : `<div class="notice" role="region" aria-labelledby="notice-title"><h2 id="notice-title">${esc(notice.title)}</h2><p>${esc(notice.message)}</p></div>`;
  if (sent) {
    return `${head('Message sent – Contact us')}<div class="panel" role="status"><h1>Thank you – we have your message</h1><p>You do not need to send it again.</p></div>${noticeBlock}
<h2>What happens next</h2>${replyTimes}<p>If you have a gas leak, no water, flooding or another emergency, phone us now: do not wait for a reply.</p>
<p><a href="${FORM_PATH}">Send another message</a></p></main></body></html>`;
  }

  const summary =
    errorText === undefined
      ? ''
      : `<div class="summary" role="alert" tabindex="-1"><h2>There is a problem</h2><p>${fieldError ? `<a href="#${esc(fieldError.field)}">${esc(errorText)}</a>` : esc(errorText)}</p></div>`;
  return `${head(`${errorText !== undefined ? 'Error: ' : ''}Contact us`)}<h1>Contact us</h1>${summary}${noticeBlock}
${replyTimes}
<p>Only your message is required. If you would like a reply, tell us at least one way to reach you.</p>
<form method="post" action="${FORM_PATH}" novalidate>
${radios('formType', [['general', 'A question or request'], ['complaint', 'A complaint'], ['feedback', 'Feedback or a compliment'], ['asb', 'Anti-social behaviour']], str('formType', 'general'))}
${input('subject', 'text', 'off', 'A few words about it (optional)')}
${textarea('message', 8, 'off', 'Tell us what has happened and what you would like us to do.', true)}
<h2>About you</h2>
${input('name', 'text', 'name')}
${input('email', 'email', 'email')}
${input('phone', 'tel', 'tel')}
${textarea('address', 3, 'street-address', 'Needed if you would like a reply by letter.')}
${input('reference', 'text', 'off', 'If you know it: it is on your tenancy agreement and rent statements.')}
${radios('preferredContact', [['', 'No preference'], ['phone', 'Phone'], ['email', 'Email'], ['sms', 'Text message'], ['letter', 'Letter']], str('preferredContact', ''))}
${input('accessibilityNeeds', 'text', 'off', 'For example large print, an interpreter, a hearing loop, or a good time to call.')}
<div class="hp" aria-hidden="true"><label for="${HONEYPOT}">Leave this field empty</label><input id="${HONEYPOT}" name="${HONEYPOT}" type="text" tabindex="-1" autocomplete="off"></div>
<button type="submit">Send message</button>
</form></main></body></html>`;
}

// ---------------------------------------------------------------------------------------------
// Sending it

const isUrlencoded = (request: FastifyRequest) => (request.headers['content-type'] ?? '').toLowerCase().startsWith('application/x-www-form-urlencoded');

/** A post to the integration route wants pages only when it says so (urlencoded and Accept text/html). */
export const wantsPagesFromApi = (request: FastifyRequest) => isUrlencoded(request) && (request.headers.accept ?? '').toLowerCase().includes('text/html');

/** A browser's post to the public form gets pages; a script (JSON, or asking for JSON only) gets JSON. */
export const wantsPagesFromForm = (request: FastifyRequest) => {
  const accept = (request.headers.accept ?? '').toLowerCase();
  return isUrlencoded(request) && !(accept.includes('application/json') && !accept.includes('text/html'));
};

/** The posted fields, whatever the body was (the page is re-rendered with what the visitor typed). */
export function postedFields(body: unknown): FormFields {
  return body !== null && typeof body === 'object' && !Array.isArray(body) ? (body as FormFields) : {};
}

export function sendPage(reply: FastifyReply, status: number, page: string): FastifyReply {
  if (!reply.hasHeader('content-security-policy')) void reply.header('content-security-policy', FALLBACK_CSP);
  return (
    reply
      .status(status)
      .header('cache-control', 'no-store')
      .header('x-content-type-options', 'nosniff')
      // Not no-referrer (helmet's default): with it a browser posts this page's own form with
      // `Origin: null`, which the same-origin check must refuse. same-origin still tells other
      // sites nothing.
      .header('referrer-policy', 'same-origin')
      .type('text/html; charset=utf-8')
      .send(page)
  );
}
