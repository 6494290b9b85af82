// Named phone queues (issue 13): each platform queue (by name, ARN or id) maps to a Kept queue with
// its route, default category and whether the phone-answer promise applies. Two are built in
// (customer-services, out-of-hours: the names Kept always had); KEPT_PHONE_QUEUES adds the centre's
// own (a repairs line, a rents line…). A queue nobody mapped goes to the default queue and is listed
// for an admin (GET /api/v1/admin/phone-queues).
import { Ajv } from 'ajv';
import { Type, type Static } from 'typebox';
import { CATEGORIES, ROUTES, type Category, type Route } from '../domain/model.js';

export interface KeptQueue {
  /** Kept's id for the queue (the contact's source.queue, the board's and the reports' key). */
  id: string;
  /** What people read: "Repairs line". */
  name: string;
  route: Route;
  /** The contact's category when the call carries none. */
  category: Category;
  /** Whether the phone-answer promise (answer within the pack's target) applies: the pack applies it on route customer-services only. */
  phoneAnswer: boolean;
  /** The platforms' names, ARNs or ids of this queue (compared without case). */
  match: string[];
}

const QueueConfig = Type.Object(
  {
    id: Type.String({ pattern: '^[a-z0-9][a-z0-9-]{0,63}$' }),
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
    route: Type.Optional(Type.Union(ROUTES.map((r) => Type.Literal(r)))),
    category: Type.Optional(Type.Union(CATEGORIES.map((c) => Type.Literal(c)))),
    phoneAnswer: Type.Optional(Type.Boolean()),
    match: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 300 }), { maxItems: 100 })),
  },
  { additionalProperties: false },
);
const QueuesConfig = Type.Array(QueueConfig, { maxItems: 200 });
export type QueueConfigEntry = Static<typeof QueueConfig>;

export const BUILT_IN_QUEUES: readonly KeptQueue[] = [
  { id: 'customer-services', name: 'Customer services', route: 'customer-services', category: 'general', phoneAnswer: true, match: [] },
  { id: 'out-of-hours', name: 'Out of hours', route: 'out-of-hours', category: 'general', phoneAnswer: false, match: [] },
];

export class QueueConfigError extends Error {}

/** The route a queue needs for its phone-answer choice: the pack's phone-answer applies on customer-services only. */
function routeFor(e: QueueConfigEntry): Route {
  if (e.route !== undefined) {
    if (e.phoneAnswer === true && e.route !== 'customer-services') throw new QueueConfigError(`queue "${e.id}": phoneAnswer true needs route customer-services (the pack's phone-answer applies there only)`);
    if (e.phoneAnswer === false && e.route === 'customer-services') throw new QueueConfigError(`queue "${e.id}": phoneAnswer false needs a route other than customer-services (out-of-hours: no answer target)`);
    return e.route;
  }
  return e.phoneAnswer === false ? 'out-of-hours' : 'customer-services';
}

/** KEPT_PHONE_QUEUES (a JSON array) read and checked; throws QueueConfigError naming the entry. */
export function parseQueues(json: string): KeptQueue[] {
  if (json.trim() === '') return [...BUILT_IN_QUEUES];
  let doc: unknown;
  try {
    doc = JSON.parse(json);
  } catch (e) {
    throw new QueueConfigError(`is not JSON (${(e as Error).message})`);
  }
  const check = new Ajv({ strict: false }).compile<Static<typeof QueuesConfig>>(QueuesConfig);
  if (!check(doc)) {
    const first = check.errors?.[0];
    throw new QueueConfigError(`${first?.instancePath || '/'}: ${first?.message ?? 'is invalid'} (each entry: {id, name?, route?, category?, phoneAnswer?, match?: [...]})`);
  }
  const byId = new Map<string, KeptQueue>(BUILT_IN_QUEUES.map((q) => [q.id, { ...q, match: [...q.match] }]));
  for (const e of doc) {
    const route = routeFor(e);
    byId.set(e.id, { id: e.id, name: e.name ?? e.id, route, category: e.category ?? 'general', phoneAnswer: route === 'customer-services', match: e.match ?? [] });
  }
  const seen = new Map<string, string>();
  for (const q of byId.values()) {
    for (const m of [q.id, ...q.match]) {
      const k = m.toLowerCase();
      const other = seen.get(k);
      if (other !== undefined && other !== q.id) throw new QueueConfigError(`"${m}" is matched by both queue "${other}" and queue "${q.id}"`);
      seen.set(k, q.id);
    }
  }
  return [...byId.values()];
}

/** A platform queue resolved to Kept's: `known` false when nothing matched (the default queue took it). */
export interface ResolvedQueue {
  queue: KeptQueue;
  known: boolean;
  /** The platform's own key that was looked up (the first given), for the unknown list and the contact's source. */
  key: string | undefined;
}

export class QueueSet {
  private readonly byKey = new Map<string, KeptQueue>();
  readonly defaultQueue: KeptQueue;
  constructor(
    readonly all: readonly KeptQueue[],
    defaultId: string,
  ) {
    for (const q of all) for (const m of [q.id, ...q.match]) this.byKey.set(m.toLowerCase(), q);
    const d = all.find((q) => q.id === defaultId);
    if (d === undefined) throw new QueueConfigError(`KEPT_PHONE_DEFAULT_QUEUE "${defaultId}" is not a queue (known: ${all.map((q) => q.id).join(', ')})`);
    this.defaultQueue = d;
  }

  byId(id: string): KeptQueue | undefined {
    return this.all.find((q) => q.id === id);
  }

  /**
   * The Kept queue for a platform queue given by any of its keys (name, ARN, id; an ARN's last
   * part, the queue id, matches too). Nothing given: the default queue, known (no queue to map).
   */
  resolve(...keys: Array<string | undefined | null>): ResolvedQueue {
    const given = keys.filter((k): k is string => typeof k === 'string' && k.trim() !== '').map((k) => k.trim());
    for (const k of given) {
      const q = this.byKey.get(k.toLowerCase()) ?? (k.startsWith('arn:') ? this.byKey.get(k.slice(k.lastIndexOf('/') + 1).toLowerCase()) : undefined);
      if (q !== undefined) return { queue: q, known: true, key: k };
    }
    return { queue: this.defaultQueue, known: given.length === 0, key: given[0] };
  }
}
