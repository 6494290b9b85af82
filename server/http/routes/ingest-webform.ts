// Webform intake: the integration route (token) and the public, accessible form at /forms/contact
// (no token, rate limited). Both run the same handler; a browser gets a redirect or the form again,
// anything else gets JSON.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { Config } from '../../config.js';
import { ContactError } from '../../domain/model.js';
import type { IngestService } from '../../ingest/service.js';
import { FIELD_LIMITS, HONEYPOT, submitWebform, type FormField, type FormFields } from '../../ingest/webform.js';
import { HttpError } from '../errors.js';
import { ContactReply, errorResponses } from '../schemas.js';

export const FORM_PATH = '/forms/contact';
const SENT_PATH = `${FORM_PATH}?sent=1`;
/** Posts a minute from one address to the public form. */
const PUBLIC_POSTS_PER_MINUTE = 10;

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

const LIMIT_RULE = /^must be at most (\d+) characters$/;

/** The error as a person should read it: what to do, in plain words. */
function friendly(e: ContactError): string {
  const field = e.field as FormField;
  const either = 'or choose another way for us to reply';
  const max = LIMIT_RULE.exec(e.rule);
  if (max !== null) return `${(LABELS[field] ?? e.field).replace(' (required)', '')} must be ${max[1]} characters or fewer`;
  switch (field) {
    case 'message':
      return 'Enter your message';
    case 'formType':
      return 'Choose what your message is about';
    case 'preferredContact':
      return 'Choose how you would like us to reply';
    case 'email':
      return e.rule.startsWith('is required') ? `Enter your email address, ${either}` : 'Enter an email address in the correct format, like name@example.com';
    case 'phone':
      return e.rule.startsWith('is required') ? `Enter your phone number, ${either}` : 'Enter a phone number, like 01632 960 001 or 07700 900 982';
    case 'address':
      return `Enter your postal address, ${either}`;
    default:
      return `${LABELS[field] ?? e.field}: ${e.rule}`;
  }
}

interface PageState {
  values?: FormFields;
  /** A field error (linked to its field), or a message for the whole form. */
  error?: ContactError | string;
  sent?: boolean;
}

const STYLE = `
*{box-sizing:border-box}
body{font:1.125rem/1.5 system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;margin:0;color:#0b0c0c;background:#fff}
main{max-width:40rem;margin:0 auto;padding:1.5rem 1rem 3rem}
h1{font-size:2rem;line-height:1.2;margin:0 0 1rem}
h2{font-size:1.375rem;margin:0 0 .5rem}
a{color:#1d70b8}
a:visited{color:#4c2c92}
.group{margin:0 0 1.5rem}
label,legend{display:block;font-weight:700;margin:0 0 .25rem}
legend{font-size:1.125rem;padding:0}
fieldset{border:0;margin:0 0 1.5rem;padding:0;min-width:0}
.hint{display:block;color:#484949;margin:0 0 .4rem}
input[type=text],input[type=email],input[type=tel],textarea{font:inherit;width:100%;padding:.45rem .5rem;border:2px solid #0b0c0c;border-radius:0;background:#fff;color:inherit}
textarea{min-height:9rem;resize:vertical}
.choice{display:flex;align-items:center;gap:.6rem;margin:0 0 .5rem;font-weight:400}
.choice label{font-weight:400;margin:0}
.choice input{width:1.5rem;height:1.5rem;margin:0;accent-color:#0b0c0c}
button{font:inherit;font-weight:700;padding:.6rem 1.4rem;background:#00703c;color:#fff;border:0;border-bottom:3px solid #002d18;cursor:pointer}
button:hover{background:#005a30}
:focus-visible{outline:3px solid #ffdd00;outline-offset:0;box-shadow:0 0 0 6px #0b0c0c}
a:focus-visible{background:#ffdd00;color:#0b0c0c;box-shadow:0 4px #0b0c0c;outline:none;text-decoration:none}
.summary{border:4px solid #d4351c;padding:1rem;margin:0 0 1.5rem}
.summary a{color:#d4351c;font-weight:700}
.error-message{color:#d4351c;font-weight:700;margin:0 0 .4rem}
.invalid input[type=text],.invalid input[type=email],.invalid input[type=tel],.invalid textarea{border-color:#d4351c;border-width:3px}
.invalid{border-left:5px solid #d4351c;padding-left:.8rem}
.panel{background:#00703c;color:#fff;padding:1.25rem;margin:0 0 1.5rem}
.panel h1{margin:0 0 .5rem}
.visually-hidden{position:absolute!important;width:1px;height:1px;margin:0;padding:0;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap;border:0}
.hp{position:absolute;left:-10000px;top:auto;width:1px;height:1px;overflow:hidden}
`;

export function formPage({ values = {}, error, sent = false }: PageState): string {
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
    `<!doctype html><html lang="en-GB"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${title}</title><style>${STYLE}</style></head><body><main id="main">`;
  const replyTimes =
    '<p>We reply to messages within one working day. We acknowledge complaints within 24 hours. Our working hours are Monday to Friday, 8am to 5pm, except bank holidays.</p>';

  if (sent) {
    return `${head('Message sent – Contact us')}<div class="panel" role="status"><h1>Thank you – we have your message</h1><p>You do not need to send it again.</p></div>
<h2>What happens next</h2>${replyTimes}<p>If you have a gas leak, no water, flooding or another emergency, phone us now: do not wait for a reply.</p>
<p><a href="${FORM_PATH}">Send another message</a></p></main></body></html>`;
  }

  const summary =
    errorText === undefined
      ? ''
      : `<div class="summary" role="alert" tabindex="-1"><h2>There is a problem</h2><p>${fieldError ? `<a href="#${esc(fieldError.field)}">${esc(errorText)}</a>` : esc(errorText)}</p></div>`;
  return `${head(`${errorText !== undefined ? 'Error: ' : ''}Contact us`)}<h1>Contact us</h1>${summary}
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
// The handler

/** A sliding one-minute window per client address, in memory (one process; resets on restart). */
export function rateLimiter(perMinute: number) {
  const hits = new Map<string, number[]>();
  return (ip: string, now: number): boolean => {
    if (hits.size > 10_000) {
      for (const [k, times] of hits) if (now - times[times.length - 1]! >= 60_000) hits.delete(k);
      if (hits.size > 10_000) hits.clear();
    }
    const recent = (hits.get(ip) ?? []).filter((t) => now - t < 60_000);
    recent.push(now);
    hits.set(ip, recent);
    return recent.length <= perMinute;
  };
}

const isUrlencoded = (request: FastifyRequest) => (request.headers['content-type'] ?? '').toLowerCase().startsWith('application/x-www-form-urlencoded');
const acceptsHtml = (request: FastifyRequest) => (request.headers.accept ?? '').toLowerCase().includes('text/html');
const acceptsJsonOnly = (request: FastifyRequest) => {
  const a = (request.headers.accept ?? '').toLowerCase();
  return a.includes('application/json') && !a.includes('text/html');
};

function html(reply: FastifyReply, status: number, page: string): FastifyReply {
  return reply
    .status(status)
    .header('cache-control', 'no-store')
    .header('x-content-type-options', 'nosniff')
    .header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'")
    .type('text/html; charset=utf-8')
    .send(page);
}

const StringField = (description: string, max: number) => Type.Optional(Type.String({ maxLength: max, description }));

const WebformBody = Type.Object(
  {
    formType: StringField('`general` (default), `complaint`, `feedback` or `asb`: the contact\'s category. A complaint gets the complaint clocks (acknowledge in 24 h, resolve in 10 working days) and no webform-reply clock.', FIELD_LIMITS.formType),
    message: StringField('**Required.** What the customer wrote (the contact\'s summary).', FIELD_LIMITS.message),
    subject: StringField('Optional subject (default from the form type).', FIELD_LIMITS.subject),
    name: StringField('The customer\'s name.', FIELD_LIMITS.name),
    email: StringField('Email address (checked for shape).', FIELD_LIMITS.email),
    phone: StringField('Phone number (at least 6 digits).', FIELD_LIMITS.phone),
    address: StringField('Postal address.', FIELD_LIMITS.address),
    reference: StringField('Tenancy reference.', FIELD_LIMITS.reference),
    preferredContact: StringField('`phone`, `email`, `sms` or `letter`; the matching phone, email or address must then be given.', FIELD_LIMITS.preferredContact),
    accessibilityNeeds: StringField('Anything that helps the organisation contact the customer (large print, interpreter…).', FIELD_LIMITS.accessibilityNeeds),
    submissionId: StringField('The form system\'s id of the submission: the contact\'s externalId (idempotency key). Without it, a hash of the content is used: the same content again within 10 minutes (or with the same submittedAt) is the same contact.', FIELD_LIMITS.submissionId),
    submittedAt: StringField('When it was submitted, ISO-8601 with an offset (default: when Kept received it). The reply clock starts here.', FIELD_LIMITS.submittedAt),
    [HONEYPOT]: StringField('Honeypot: leave empty. When filled, the post is answered as received and nothing is stored.', 2000),
  },
  {
    additionalProperties: true,
    examples: [
      {
        formType: 'complaint',
        name: 'Bea Resident',
        email: 'bea@example.com',
        reference: 'T-004512',
        preferredContact: 'email',
        subject: 'Kitchen repair not finished',
        message: 'The kitchen repair booked for 2 March was not finished and nobody has been back.',
        submissionId: 'cms-sub-88412',
        submittedAt: '2026-03-06T16:00:00Z',
      },
    ],
  },
);

export async function webformRoutes(app: FastifyInstance, service: IngestService, _config: Config): Promise<void> {
  /** `browser`: answer with a redirect (or the form with the error) instead of JSON. */
  const handle = async (request: FastifyRequest, reply: FastifyReply, browser: boolean, isPublic: boolean) => {
    const body = request.body;
    const fields: FormFields = body !== null && typeof body === 'object' && !Array.isArray(body) ? (body as FormFields) : {};
    try {
      const r = await submitWebform(service, fields);
      if (browser) return reply.redirect(SENT_PATH, 303);
      // The public route never echoes stored data, and answers a bot exactly as a person.
      if (isPublic || r.bot) return reply.status(200).send({ received: true });
      return reply.status(r.created ? 201 : 200).send(r.contact);
    } catch (e) {
      if (browser && e instanceof ContactError) return html(reply, 400, formPage({ values: fields, error: e }));
      throw e;
    }
  };

  app.post(
    '/api/v1/ingest/webform',
    {
      schema: {
        tags: ['ingest'],
        summary: 'A web form submission (JSON or urlencoded)',
        description: [
          'For a website\'s own form handler or a forms platform (token required). Body: JSON or `application/x-www-form-urlencoded` with the fields below; unknown fields are ignored.',
          '',
          '- A new submission answers **201** with the contact and its clocks; a replay (same submissionId, or the same content: see submissionId) answers **200** with the stored contact.',
          '- A mistake answers **400** naming the field (`message` missing, an unknown `formType`, a `submittedAt` without offset…), and nothing is stored.',
          `- A filled \`${HONEYPOT}\` field (the honeypot) answers **200** \`{"received": true}\` and stores nothing.`,
          `- A browser post (urlencoded with \`Accept: text/html\`) is answered like the public form: **303** to \`${SENT_PATH}\`, or the form again with the error.`,
          '',
          `The public form at \`${FORM_PATH}\` (no token, ${PUBLIC_POSTS_PER_MINUTE} posts a minute per address) uses the same rules.`,
        ].join('\n'),
        consumes: ['application/json', 'application/x-www-form-urlencoded'],
        body: WebformBody,
        response: {
          201: ContactReply,
          200: Type.Union([ContactReply, Type.Object({ received: Type.Literal(true) })]),
          ...errorResponses,
        },
      },
    },
    async (request, reply) => handle(request, reply, isUrlencoded(request) && acceptsHtml(request), false),
  );

  const allow = rateLimiter(PUBLIC_POSTS_PER_MINUTE);
  app.get(FORM_PATH, { config: { auth: false }, schema: { hide: true } }, async (request, reply) => {
    const sent = (request.query as { sent?: unknown } | undefined)?.sent === '1';
    return html(reply, 200, formPage({ sent }));
  });
  app.post(FORM_PATH, { config: { auth: false }, schema: { hide: true } }, async (request, reply) => {
    // A browser's form post gets pages; a script (JSON, or asking for JSON only) gets JSON.
    const browser = isUrlencoded(request) && !acceptsJsonOnly(request);
    if (!allow(request.ip, Date.now())) {
      void reply.header('retry-after', '60');
      const message = 'You have sent several messages in the last minute. Wait a minute, then send your message again.';
      if (browser) return html(reply, 429, formPage({ values: (request.body ?? {}) as FormFields, error: message }));
      throw new HttpError(429, 'too many submissions from this address: wait a minute');
    }
    return handle(request, reply, browser, true);
  });
}
