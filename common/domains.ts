// The domains, one entry each. A domain is its own files (common/messages/<domain>.ts,
// processor/commands/<domain>.ts, lua/<domain>.*.lua, its reads in ingest-api/reads.ts) plus its entry here.
// Everything else that is per domain derives from this table: the topics (common/config.ts), the topic a
// dead letter is counted under, the sweeper's expire commands, ingest's reference checks, the read routes,
// the metrics' label values. What cannot derive from it is keyed by Domain and fails to compile without
// the new entry (the command table, the readers); docker-compose.yml's topic list and the README's topics
// row are tested against it (common/domains.spec.ts).

export interface DomainSpec {
  /** The field its messages name their entity by (their Kafka key, their Redis hash tag). */
  entity: string;
  /**
   * What the domain calls a two-phase hold: the field by which capture/confirm-style messages name one
   * (ingest checks that it exists: unknown_<hold>). Its expire message is `<domain>.expire`, with the hold's
   * id as its id and the entity in the `entity` field.
   */
  hold: string;
  /**
   * The read routes (ingest-api/app.ts): the entity, one of its holds (entity first, hold second), its history
   * and, where it has one, its live stream.
   */
  routes: { entity: string; hold: string; entries: string; stream?: string };
}

export const domainRegistry = {
  wallet: {
    entity: 'account',
    hold: 'hold',
    routes: { entity: '/v1/accounts/:id', hold: '/v1/accounts/:id/holds/:hold', entries: '/v1/accounts/:id/entries' },
  },
  stock: {
    entity: 'sku',
    hold: 'reservation',
    routes: {
      entity: '/v1/stock/:sku',
      hold: '/v1/stock/:sku/reservations/:reservation',
      entries: '/v1/stock/:sku/entries',
      stream: '/v1/stock/:sku/stream',
    },
  },
  seats: {
    entity: 'event',
    hold: 'hold',
    routes: {
      entity: '/v1/events/:event/seats',
      hold: '/v1/events/:event/holds/:hold',
      entries: '/v1/events/:event/entries',
      stream: '/v1/events/:event/seats/stream',
    },
  },
} as const satisfies Record<string, DomainSpec>;

export type Domain = keyof typeof domainRegistry;

/** The domains whose entities have a live stream (a `stream` route). */
export type StreamDomain = {
  [D in Domain]: (typeof domainRegistry)[D]['routes'] extends { stream: string } ? D : never;
}[Domain];
/** What each domain calls its entity: account, sku, event. */
export type EntityName = (typeof domainRegistry)[Domain]['entity'];
/** What each domain calls a hold: hold, reservation. */
export type HoldName = (typeof domainRegistry)[Domain]['hold'];

export const domains = Object.keys(domainRegistry) as Domain[];

export function isDomain(name: string): name is Domain {
  return Object.hasOwn(domainRegistry, name);
}
