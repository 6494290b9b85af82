// Webform intake: the integration route (token) and the public accessible form at /forms/contact.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { Config } from '../../config.js';
import { ContactError } from '../../domain/model.js';
import type { IngestService } from '../../ingest/service.js';
import { contactFromForm, isBot, type FormFields } from '../../ingest/webform.js';
import { HttpError } from '../errors.js';

const esc = (s: unknown) => String(s ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function formPage(values: FormFields, error: ContactError | null, sent: boolean): string {
  const v = (n: string) => esc(values[n]);
  const input = (name: string, label: string, type = 'text', hint = '') =>
    `<p><label for="${name}">${label}</label>${hint ? `<span class="hint" id="${name}-hint">${hint}</span>` : ''}<input id="${name}" name="${name}" type="${type}" value="${v(name)}"${hint ? ` aria-describedby="${name}-hint"` : ''}${error?.field === name ? ' aria-invalid="true"' : ''}></p>`;
  const radio = (value: string, label: string) =>
    `<label class="choice"><input type="radio" name="formType" value="${value}"${(values.formType ?? 'general') === value ? ' checked' : ''}> ${label}</label>`;
  const pref = (value: string, label: string) => `<option value="${value}"${values.preferredContact === value ? ' selected' : ''}>${label}</option>`;
  return `<!doctype html><html lang="en-GB"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Contact us</title>
<style>body{font:18px/1.5 system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;color:#1b1b1b}label{display:block;font-weight:600}.choice{font-weight:400}.hint{display:block;color:#505a5f}
input,select,textarea{font:inherit;width:100%;padding:.5rem;border:2px solid #1b1b1b;border-radius:4px;box-sizing:border-box}input[type=radio]{width:auto}
:focus{outline:3px solid #ffbf47;outline-offset:2px}button{font:inherit;padding:.6rem 1.4rem;background:#00703c;color:#fff;border:0;border-radius:4px;cursor:pointer}
.error{border-left:6px solid #d4351c;padding:.5rem 1rem;background:#fdf0ee}.ok{border-left:6px solid #00703c;padding:.5rem 1rem;background:#eef7f1}fieldset{border:0;padding:0}legend{font-weight:600}.hp{position:absolute;left:-10000px}</style></head><body>
<main><h1>Contact us</h1>
${sent ? '<div class="ok" role="status"><h2>Thank you — we have your message</h2><p>We reply within one working day (complaints are acknowledged within 24 hours).</p></div>' : ''}
${error ? `<div class="error" role="alert"><h2>There is a problem</h2><p><a href="#${esc(error.field)}">${esc(error.message)}</a></p></div>` : ''}
<p>Fields marked (required) must be filled in.</p>
<form method="post" action="/forms/contact">
<fieldset><legend>What is it about?</legend>${radio('general', 'A question or request')}${radio('complaint', 'A complaint')}${radio('feedback', 'Feedback')}${radio('asb', 'Anti-social behaviour')}</fieldset>
${input('name', 'Your name')}${input('email', 'Email address', 'email')}${input('phone', 'Phone number', 'tel')}${input('reference', 'Tenancy reference', 'text', 'If you know it')}
<p><label for="preferredContact">How should we contact you?</label><select id="preferredContact" name="preferredContact"><option value="">No preference</option>${pref('phone', 'Phone')}${pref('email', 'Email')}${pref('sms', 'Text message')}${pref('letter', 'Letter')}</select></p>
${input('accessibilityNeeds', 'Anything we should know to contact you', 'text', 'For example large print, an interpreter, or a hearing loop')}
<p><label for="message">Your message (required)</label><textarea id="message" name="message" rows="6" required${error?.field === 'message' ? ' aria-invalid="true"' : ''}>${v('message')}</textarea></p>
<p class="hp" aria-hidden="true"><label for="website">Leave this empty</label><input id="website" name="website" tabindex="-1" autocomplete="off"></p>
<button type="submit">Send</button></form></main></body></html>`;
}

/** A small in-memory limit on the public form: 10 posts a minute per address. */
function rateLimiter(perMinute: number) {
  const hits = new Map<string, number[]>();
  return (ip: string, now: number): boolean => {
    const recent = (hits.get(ip) ?? []).filter((t) => now - t < 60_000);
    recent.push(now);
    hits.set(ip, recent);
    if (hits.size > 10_000) hits.clear();
    return recent.length <= perMinute;
  };
}

export async function webformRoutes(app: FastifyInstance, service: IngestService, _config: Config): Promise<void> {
  const submit = async (fields: FormFields) => {
    if (isBot(fields)) return { created: false, contact: null };
    return service.createContact(contactFromForm(fields, service.now()));
  };

  app.post(
    '/api/v1/ingest/webform',
    {
      schema: {
        tags: ['ingest'],
        summary: 'A web form submission (JSON or urlencoded)',
        description:
          'Fields: formType (general, complaint, feedback, asb → the category), message (required), name, email, phone, address, reference, preferredContact (phone, email, sms, letter), accessibilityNeeds, subject, submissionId (idempotency key; default a hash of the content), submittedAt (ISO with offset; default now). A filled `website` field (the honeypot) is answered 200 and stored nowhere.',
        body: Type.Object({}, { additionalProperties: true }),
      },
    },
    async (request, reply) => {
      const r = await submit(request.body as FormFields);
      // A bot (honeypot filled) is told "received" and nothing is stored.
      return reply.status(r.created ? 201 : 200).send(r.contact ?? { received: true });
    },
  );

  const allow = rateLimiter(10);
  app.get('/forms/contact', { config: { auth: false }, schema: { hide: true } }, async (request: FastifyRequest, reply: FastifyReply) => {
    const sent = (request.query as { sent?: string }).sent === '1';
    return reply.type('text/html; charset=utf-8').send(formPage({}, null, sent));
  });
  app.post('/forms/contact', { config: { auth: false }, schema: { hide: true } }, async (request, reply) => {
    if (!allow(request.ip, Date.now())) throw new HttpError(429, 'too many submissions from this address: please wait a minute');
    const fields = (request.body ?? {}) as FormFields;
    try {
      await submit(fields);
      return reply.redirect('/forms/contact?sent=1', 303);
    } catch (e) {
      if (e instanceof ContactError) return reply.status(400).type('text/html; charset=utf-8').send(formPage(fields, e, false));
      throw e;
    }
  });
}
