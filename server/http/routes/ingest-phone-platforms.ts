// The native telephony adapters (issue 13), each at its own route with the platform's own
// authentication: Twilio (X-Twilio-Signature over KEPT_PUBLIC_URL + the path, with the twilio
// package's validator), Amazon Connect and Genesys Cloud (an integration token, as an EventBridge
// API destination sends it). Each delivery becomes Kept call events (server/ingest/*.ts), applied
// with the events of calls not yet started held in the database.
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import twilio from 'twilio';
import type { Config } from '../../config.js';
import { ForbiddenError, UnauthorizedError } from '../../errors.js';
import { translateConnect } from '../../ingest/amazon-connect.js';
import { translateGenesys } from '../../ingest/genesys-cloud.js';
import type { Translation } from '../../ingest/platform.js';
import { QueueSet } from '../../ingest/queues.js';
import type { IngestService } from '../../ingest/service.js';
import { applyCallEvents } from '../../ingest/telephony.js';
import { translateTwilio, type TwilioParams } from '../../ingest/twilio.js';
import { actorOf } from '../access.js';
import { errorResponses } from '../schemas.js';
import { callStatus } from './ingest-telephony.js';

const Reply = Type.Object({
  results: Type.Array(
    Type.Object({ callId: Type.String(), event: Type.String(), contactId: Type.Optional(Type.String()), outcome: Type.String() }),
    { description: 'One entry per call event the delivery became: created, replayed, added, duplicate, held (its call has not started yet), recorded (handle time).' },
  ),
  contacts: Type.Array(Type.String(), { description: 'Ids of the contacts opened or changed.' }),
  ignored: Type.Array(Type.Object({ what: Type.String(), reason: Type.String() }), { description: 'What was recognised and left alone: outbound calls, transfers, events that say nothing about the queue.' }),
  advisors: Type.Integer({ description: "Advisors' states recorded." }),
});

const TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>';
/** An <Enqueue waitUrl> request must get TwiML that keeps the caller waiting: a pause, then Twilio asks again. */
const TWIML_WAIT = '<?xml version="1.0" encoding="UTF-8"?><Response><Pause length="10"/></Response>';

/** The twilio package's signature check, over the URL Twilio was given (KEPT_PUBLIC_URL + path and query). */
export function twilioSignatureValid(authToken: string, signature: string, url: string, params: Record<string, unknown>): boolean {
  return twilio.validateRequest(authToken, signature, url, params);
}

export async function phonePlatformRoutes(instance: FastifyInstance, service: IngestService, config: Config): Promise<void> {
  const app = instance.withTypeProvider<TypeBoxTypeProvider>();
  const queues = new QueueSet(config.phone.queues, config.phone.defaultQueue);
  const hold = { max: config.phone.heldMax, days: config.phone.heldDays };

  const apply = async (request: FastifyRequest, platform: string, t: Translation) => {
    const as = service.as(actorOf(request) === 'anonymous' ? platform : actorOf(request));
    const r = await applyCallEvents(as, t.events, t.events.length === 1, { queues, hold, platform });
    if (t.advisorStates.length > 0) await as.telephonyFacts({ advisorStates: t.advisorStates });
    return {
      status: t.events.length === 0 ? 200 : callStatus(r),
      body: { results: r.results, contacts: r.contacts.map((c) => c.id), ignored: t.ignored, advisors: t.advisorStates.length },
    };
  };

  app.post(
    '/api/v1/ingest/twilio',
    {
      // Public to the access hook (Twilio sends no token): the handler refuses any request without Twilio's signature.
      config: { access: 'public' },
      schema: {
        tags: ['ingest'],
        summary: 'Twilio: Voice status callbacks, <Enqueue> action and wait callbacks, TaskRouter events (signed)',
        description: [
          "Twilio's own form-encoded webhooks, as Twilio sends them. `X-Twilio-Signature` is checked with the `twilio` package's `validateRequest` and `KEPT_TWILIO_AUTH_TOKEN` over `KEPT_PUBLIC_URL` + the path and query Twilio was given: missing is **401**, wrong is **403**, and nothing is stored.",
          '',
          '- Voice status callback (StatusCallbackEvent initiated, ringing, answered, completed): an inbound call ringing is queued at `Timestamp` (RFC 2822); `completed` ends it (and is an abandon if no answer was heard); busy, no-answer, canceled, failed are abandons; a `<Dial>` leg (`outbound-dial`) going in-progress is the advisor answering the parent call; other outbound calls are ignored.',
          '- `<Enqueue action>`: `QueueResult` bridged → answered `QueueTime` s after queued; hangup → abandoned. `<Enqueue waitUrl>`: queued `QueueTime` s ago.',
          '- TaskRouter events: task.created → queued; reservation.accepted → answered by `WorkerName`; task.canceled → abandoned; task.wrapup / task.completed → talk and wrap-up time; worker.activity.update → the advisor\'s state.',
          '- `?queue=NAME` on the webhook URL names the line (matched by KEPT_PHONE_QUEUES), else the TaskQueue name or the Queue sid.',
          '- An event for a call not yet started is held (bounded) until its start arrives. Answers TwiML `<Response/>` (so an `<Enqueue action>` ends cleanly), or JSON with `Accept: application/json`.',
        ].join('\n'),
        consumes: ['application/x-www-form-urlencoded'],
        querystring: Type.Object({ queue: Type.Optional(Type.String({ maxLength: 300 })) }),
        response: { 200: Reply, 201: Reply, 202: Reply, ...errorResponses },
      },
    },
    async (request, reply: FastifyReply) => {
      const signature = request.headers['x-twilio-signature'];
      if (typeof signature !== 'string' || signature === '') throw new UnauthorizedError('X-Twilio-Signature: missing', 'X-Twilio-Signature');
      const params = (request.body ?? {}) as Record<string, unknown>;
      if (config.phone.twilioAuthToken === '' || config.publicUrl === '' || !twilioSignatureValid(config.phone.twilioAuthToken, signature, `${config.publicUrl}${request.url}`, params)) {
        throw new ForbiddenError('X-Twilio-Signature: does not match KEPT_TWILIO_AUTH_TOKEN over KEPT_PUBLIC_URL and this path', 'X-Twilio-Signature');
      }
      const flat: TwilioParams = Object.fromEntries(Object.entries(params).map(([k, v]) => [k, Array.isArray(v) ? String(v[0]) : v === undefined ? undefined : String(v)]));
      const t = await translateTwilio(flat, service.now(), (request.query as { queue?: string }).queue, (id) => service.telephony.ledger(id));
      const r = await apply(request, 'twilio', t);
      if ((request.headers.accept ?? '').includes('application/json')) return reply.status(r.status).send(r.body);
      const twiml = flat.QueuePosition !== undefined && flat.QueueResult === undefined ? TWIML_WAIT : TWIML;
      return reply.status(r.status).type('text/xml').serializer((x: unknown) => String(x)).send(twiml);
    },
  );

  for (const [path, platform, translate, summary, description] of [
    [
      '/api/v1/ingest/amazon-connect',
      'amazon-connect',
      translateConnect,
      'Amazon Connect: contact events as an EventBridge API destination delivers them',
      [
        'An EventBridge rule (`source: aws.connect`, `detail-type: Amazon Connect Contact Event`) with an API destination to this URL, its connection an API key: header `Authorization`, value `Bearer <Kept token>`. The event as delivered, or an array.',
        '',
        '- Voice only. Any event with `queueInfo.enqueueTimestamp` opens (or finds) the call queued then, in the Kept queue matched by `queueInfo.queueArn`.',
        '- CONNECTED_TO_AGENT → answered at `agentInfo.connectedToAgentTimestamp`. DISCONNECTED with an agent → talk and wrap-up time; in queue, no agent, by the customer → abandoned.',
        '- `initiationMethod` CALLBACK: joined to the original call by `relatedContactId` (else `previousContactId`): its QUEUED → callback-requested, its CONNECTED_TO_AGENT → callback-connected. OUTBOUND, API, TRANSFER, QUEUE_TRANSFER: recognised and ignored.',
        '- Any order, any number of times: an event for a call not yet started is held until its start arrives.',
      ].join('\n'),
    ],
    [
      '/api/v1/ingest/genesys-cloud',
      'genesys-cloud',
      translateGenesys,
      'Genesys Cloud: conversation detail events (EventBridge or webhook)',
      [
        "Genesys Cloud's Amazon EventBridge integration, a rule on the partner bus with an API destination to this URL (header `Authorization: Bearer <Kept token>`); or a Genesys webhook posting `{topicName, eventBody}`. Topics: `v2.detail.events.conversation.{id}.acd.start`, `.acd.end`, `.acw`, `.user.end`, and `v2.users.{id}.routingStatus` for advisors' states.",
        '',
        '- acd.start (VOICE, inbound) → queued at `eventTime` in the Kept queue matched by `queueId`; acd.end `acdOutcome` ANSWERED → answered by `answeredUserId`, ABANDON / SHORT_ABANDON / DISCONNECT → abandoned; a CALLBACK session → callback-requested / callback-connected on the same conversation.',
        '- acw → wrap-up time (`wrapupDurationMs`); user.end → talk time (`interactingDurationMs`). Outbound conversations are ignored.',
        '- Any order, any number of times: an event for a call not yet started is held until its start arrives.',
      ].join('\n'),
    ],
  ] as const) {
    app.post(
      path,
      {
        config: { access: 'token' },
        schema: { tags: ['ingest'], summary, description, consumes: ['application/json'], response: { 200: Reply, 201: Reply, 202: Reply, ...errorResponses } },
      },
      async (request, reply) => {
        const r = await apply(request, platform, translate(request.body));
        return reply.status(r.status).send(r.body);
      },
    );
  }
}
