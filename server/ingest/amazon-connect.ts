// Amazon Connect (issue 13): contact events as an EventBridge rule delivers them to an API
// destination (`detail-type: Amazon Connect Contact Event`), into Kept call events. Connect has no
// enqueue or abandon event: every event carrying `queueInfo.enqueueTimestamp` says when the call was
// queued, and a disconnect with queue info and no agent, by the customer, is an abandon.
import { ValidationError } from '../errors.js';
import { emptyTranslation, isoFromText, lastPart, type Translation } from './platform.js';
import type { CallEvent } from './telephony.js';

type Json = Record<string, unknown>;
const obj = (v: unknown): Json | undefined => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : undefined);
const str = (v: unknown) => (typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined);

/** Disconnect reasons that mean the caller hung up (anything else: the flow or the system ended the leg, e.g. after a callback was set). */
const CUSTOMER_HANGUP = new Set(['CUSTOMER_DISCONNECT', 'CUSTOMER_CONNECTION_NOT_ESTABLISHED']);

/**
 * One EventBridge delivery (the event itself, or an array of them) → call events.
 *
 * - `channel` other than VOICE, and events of other detail-types: ignored.
 * - `initiationMethod` OUTBOUND / API / campaigns: ignored (outbound). TRANSFER and QUEUE_TRANSFER: the
 *   transferred leg of a call already answered or queued: ignored (the original call's clocks stand).
 * - INBOUND: any event with `queueInfo.enqueueTimestamp` → queued then (queue: `queueInfo.queueArn`);
 *   CONNECTED_TO_AGENT → answered at `agentInfo.connectedToAgentTimestamp` by the agent (its ARN's id);
 *   DISCONNECTED with an agent → ended (talk from connected to `disconnectTimestamp`, wrap-up from
 *   `agentInfo.afterContactWorkDuration`); DISCONNECTED in queue with no agent, by the customer → abandoned.
 * - CALLBACK (a new contact Connect places for the caller): joined to the original call
 *   (`relatedContactId`, else `previousContactId`): its QUEUED → callback-requested on the original at
 *   the callback's `initiationTimestamp`; its CONNECTED_TO_AGENT → callback-connected.
 */
export function translateConnect(doc: unknown): Translation {
  const out = emptyTranslation();
  const list = Array.isArray(doc) ? doc : [doc];
  list.forEach((raw, i) => {
    const prefix = Array.isArray(doc) ? `[${i}].` : '';
    const event = obj(raw);
    if (event === undefined) throw new ValidationError(`${prefix}body`, 'must be an EventBridge event (a JSON object)');
    const type = str(event['detail-type']);
    const d = obj(event.detail);
    if (type !== 'Amazon Connect Contact Event' || d === undefined) {
      out.ignored.push({ what: type ?? 'event', reason: 'not an Amazon Connect contact event' });
      return;
    }
    const f = (name: string) => `${prefix}detail.${name}`;
    const eventType = str(d.eventType) ?? '';
    const contactId = str(d.contactId);
    if (contactId === undefined) throw new ValidationError(f('contactId'), 'is required');
    const channel = (str(d.channel) ?? 'VOICE').toUpperCase();
    if (channel !== 'VOICE') {
      out.ignored.push({ what: `${eventType} ${contactId}`, reason: `channel ${channel}` });
      return;
    }
    const method = (str(d.initiationMethod) ?? 'INBOUND').toUpperCase();
    const id = str(event.id) ?? contactId;
    const queueInfo = obj(d.queueInfo);
    const agentInfo = obj(d.agentInfo) ?? obj(d.AgentInfo);
    const enqueued = str(queueInfo?.enqueueTimestamp);
    const queueArn = str(queueInfo?.queueArn);
    const connectedAt = str(agentInfo?.connectedToAgentTimestamp);
    const agentArn = str(agentInfo?.agentArn) ?? str(agentInfo?.AgentArn);
    const agent = agentArn !== undefined ? lastPart(agentArn) : undefined;
    const base = { platform: 'amazon-connect' };

    if (method === 'CALLBACK') {
      const original = str(d.relatedContactId) ?? str(d.previousContactId);
      if (original === undefined) {
        out.ignored.push({ what: `${eventType} ${contactId}`, reason: 'callback with no related contact' });
        return;
      }
      if (eventType === 'QUEUED') {
        const at = isoFromText(d.initiationTimestamp ?? enqueued, f('initiationTimestamp'));
        out.events.push({ ...base, callId: original, event: 'callback-requested', at, eventId: `${contactId}:callback-requested`, relatedCallId: contactId });
      } else if (eventType === 'CONNECTED_TO_AGENT' && connectedAt !== undefined) {
        out.events.push({ ...base, callId: original, event: 'callback-connected', at: isoFromText(connectedAt, f('agentInfo.connectedToAgentTimestamp')), eventId: `${contactId}:callback-connected`, ...(agent ? { agent } : {}) });
      } else out.ignored.push({ what: `${eventType} ${contactId}`, reason: 'callback leg: only its queueing and connection count' });
      return;
    }
    if (method !== 'INBOUND') {
      out.ignored.push({ what: `${eventType} ${contactId}`, reason: method === 'TRANSFER' || method === 'QUEUE_TRANSFER' ? 'transfer' : 'outbound' });
      return;
    }
    if (enqueued !== undefined) {
      // Every event with queue info carries the enqueue time: the call's start, whatever arrives first.
      out.events.push({ ...base, callId: contactId, event: 'queued', at: isoFromText(enqueued, f('queueInfo.enqueueTimestamp')), ...(queueArn ? { platformQueue: queueArn } : {}), eventId: `${contactId}:queued` });
    }
    switch (eventType) {
      case 'CONNECTED_TO_AGENT':
        if (connectedAt === undefined) throw new ValidationError(f('agentInfo.connectedToAgentTimestamp'), 'is required on CONNECTED_TO_AGENT');
        out.events.push({ ...base, callId: contactId, event: 'answered', at: isoFromText(connectedAt, f('agentInfo.connectedToAgentTimestamp')), eventId: `${contactId}:answered`, ...(agent ? { agent } : {}) });
        return;
      case 'DISCONNECTED': {
        const at = isoFromText(d.disconnectTimestamp, f('disconnectTimestamp'));
        if (connectedAt !== undefined) {
          const acw = Number(agentInfo?.afterContactWorkDuration);
          out.events.push({
            ...base,
            callId: contactId,
            event: 'ended',
            at,
            eventId: `${contactId}:ended`,
            talkSeconds: Math.max(0, (Date.parse(at) - Date.parse(connectedAt)) / 1000),
            ...(Number.isFinite(acw) && agentInfo?.afterContactWorkDuration !== undefined ? { wrapSeconds: acw } : {}),
            ...(agent ? { agent } : {}),
          });
        } else if (enqueued !== undefined && CUSTOMER_HANGUP.has(str(d.disconnectReason) ?? 'CUSTOMER_DISCONNECT')) {
          out.events.push({ ...base, callId: contactId, event: 'abandoned', at, eventId: `${contactId}:abandoned` });
        } else {
          out.ignored.push({ what: `DISCONNECTED ${contactId}`, reason: enqueued === undefined ? 'never queued (ended in the flow)' : `ended by ${str(d.disconnectReason)}` });
        }
        return;
      }
      case 'QUEUED':
        if (enqueued === undefined) throw new ValidationError(f('queueInfo.enqueueTimestamp'), 'is required on QUEUED');
        return;
      default:
        if (enqueued === undefined) out.ignored.push({ what: `${eventType} ${contactId}`, reason: 'says nothing about the queue' });
        return;
    }
    void id;
  });
  return out;
}
