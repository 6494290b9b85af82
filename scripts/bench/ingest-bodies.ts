// Realistic contact bodies (STANDARDS §8) for the ingest benchmark and the crash test: all five
// channels, three routes, complaints (acknowledged), emergencies (attended), calls answered or
// abandoned, replies and assignments; a customer with most fields; receivedAt with an offset.

const CHANNEL_CYCLE = ['phone', 'email', 'phone', 'webform', 'email', 'social', 'phone', 'voicemail', 'email', 'webform'] as const;
const NAMES = ['Alex Example', 'Priya Sample', 'Tom Specimen', 'Grace Placeholder', 'Sam Testcase', 'Wei Dummy', 'Fatima Fictional', 'Rhys Madeup'];
const ADVISORS = ['sam.jones', 'ola.ade', 'kate.bell', 'dev.patel'];
const SUBJECTS = [
  ['Boiler not working', 'The boiler stopped overnight and there is no hot water or heating. Two young children in the house.'],
  ['Rent statement', 'Please could you send me a statement of my rent account for the last six months, by email if possible.'],
  ['Damp in bedroom', 'Black mould is coming back on the bedroom wall by the window even after cleaning it last month.'],
  ['Noise from next door', 'Loud music every night after midnight from the flat above. This has gone on for three weeks.'],
  ['Repair appointment', 'I need to change the repair appointment booked for Thursday morning; any afternoon next week is fine.'],
  ['Leak under sink', 'Water is dripping from the pipe under the kitchen sink; I have put a bowl under it for now.'],
] as const;

/** `ms` as ISO-8601 with a +01:00 offset (a London summer-time wall clock), or Z. */
function withOffset(ms: number, plusOne: boolean): string {
  if (!plusOne) return new Date(ms).toISOString();
  return `${new Date(ms + 3_600_000).toISOString().slice(0, 23)}+01:00`;
}

/**
 * The i-th contact of a run: deterministic in i; externalId = `${prefix}-${i}` (unique per channel).
 * `now` anchors receivedAt (a few minutes earlier, so every event is before now).
 */
export function contactBody(i: number, prefix: string, now = Date.now()): Record<string, unknown> & { channel: string; externalId: string } {
  const channel = CHANNEL_CYCLE[i % CHANNEL_CYCLE.length]!;
  const received = now - 600_000 + (i % 300) * 1000;
  const at = (s: number) => withOffset(received + s * 1000, i % 2 === 0);
  const [subject, summary] = SUBJECTS[i % SUBJECTS.length]!;
  const name = NAMES[i % NAMES.length]!;
  let category = 'general';
  let route = 'customer-services';
  if (i % 13 === 0) category = 'complaint';
  else if (i % 17 === 0) category = 'emergency-repair';
  else if (Math.floor(i / 10) % 5 === 1) category = 'repair';
  else if (i % 29 === 0) category = 'asb';
  if (channel === 'email' && i % 7 === 3) route = 'colleague-direct';
  if (channel === 'phone' && category === 'emergency-repair' && i % 2 === 1) route = 'out-of-hours';

  const events: Array<Record<string, unknown>> = [];
  if (channel === 'phone') {
    if (i % 11 === 0) events.push({ type: 'abandoned', at: at(3 + (i % 40)) });
    else if (i % 4 !== 1) events.push({ type: 'answered', at: at(20 + (i % 200)), externalId: `call-${prefix}-${i}-answer` });
  } else if (i % 3 === 0) {
    events.push({ type: 'assigned', assignee: ADVISORS[i % ADVISORS.length], at: at(30) });
    if (i % 6 === 0 && category !== 'complaint') events.push({ type: 'replied', at: at(240) });
  }
  if (category === 'complaint' && i % 2 === 0) events.push({ type: 'acknowledged', reference: `CMP-${100000 + i}`, owner: 'kate.bell', at: at(120) });
  if (category === 'emergency-repair' && i % 3 !== 2) events.push({ type: 'attended', appointmentArranged: i % 2 === 0, at: at(280) });

  const customer: Record<string, string> = { name, preferredContact: i % 4 === 0 ? 'phone' : 'email' };
  if (channel !== 'phone' || i % 2 === 0) customer.email = `${name.toLowerCase().replace(' ', '.')}@example.com`;
  if (channel === 'phone' || channel === 'voicemail' || i % 5 === 0) customer.phone = `+44 1632 96${String(i % 10000).padStart(4, '0')}`;
  if (i % 9 === 0) customer.accessibilityNeeds = 'Large print letters; please call rather than text.';

  const body: Record<string, unknown> & { channel: string; externalId: string } = {
    channel,
    route,
    category,
    externalId: `${prefix}-${i}`,
    receivedAt: at(0),
    customer,
    subject,
    summary,
  };
  if (events.length > 0) body.events = events;
  return body;
}
