// The OpenAPI 3.1 document of ingest-api, generated from the zod schemas (zod's own JSON Schema output,
// draft 2020-12, which OpenAPI 3.1 uses as is): the message types of common/messages for request bodies,
// api-schemas.ts for answers, error-statuses.ts for the error codes each status carries.
import { z } from 'zod';
import { limits } from '../common/limits.ts';
import { messageTypes, publicTypes } from '../common/messages/index.ts';
// For its side effect: the answer schemas register themselves (with their ids) in zod's global registry.
import './api-schemas.ts';
import { codesWith } from './error-statuses.ts';

type Json = Record<string, unknown>;

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

/** A message type as a request body: `id` optional (ingest-api generates one), seat lists without repeats. */
function transactionSchema(type: (typeof publicTypes)[number]): Json {
  const { $schema: _, ...schema } = z.toJSONSchema(messageTypes[type].schema, {
    target: 'draft-2020-12',
    io: 'input',
    unrepresentable: 'any',
  }) as Json;
  schema.required = (schema.required as string[]).filter((f) => f !== 'id');
  const seats = (schema.properties as Record<string, Json>).seats;
  if (seats) seats.uniqueItems = true;
  if (type === 'wallet.transfer') schema.description = '`to` must differ from `from` (400 self_transfer)';
  return schema;
}

/** Every schema with a zod `id` (api-schemas.ts), each referring to the others by component. */
function answerSchemas(): Record<string, Json> {
  const all = z.toJSONSchema(z.globalRegistry, {
    target: 'draft-2020-12',
    io: 'output',
    unrepresentable: 'any',
    uri: (id) => `#/components/schemas/${id}`,
  });
  return Object.fromEntries(
    Object.entries(all.schemas).map(([id, s]) => {
      const { $schema: _, $id: __, ...rest } = s as Json;
      return [id, rest];
    }),
  );
}

const json = (schema: Json) => ({ 'application/json': { schema } });

/** An error answer: the Error shape, its code one of those this status carries. */
const errorResponse = (status: number) => {
  const codes = codesWith(status);
  return {
    description: `${codes.map((c) => `\`${c}\``).join(', ')}`,
    ...(status === 503 && {
      headers: { 'Retry-After': { description: 'seconds to wait before retrying', schema: { type: 'integer' } } },
    }),
    content: json({ allOf: [ref('Error'), { properties: { code: { enum: codes } } }] }),
  };
};

const errors = (...statuses: number[]) => Object.fromEntries(statuses.map((s) => [String(s), errorResponse(s)]));
const readErrors = () => errors(400, 401, 403, 404, 500, 503);

const idParam = (name: string, description: string) => ({
  name,
  in: 'path',
  required: true,
  description,
  schema: { type: 'string', minLength: 1, maxLength: limits.maxIdLength, pattern: '^[A-Za-z0-9._:@-]+$' },
});

const waitQuery = (what: string) => ({
  name: 'wait',
  in: 'query',
  required: false,
  description: `milliseconds to wait for the outcome: ${what}`,
  schema: { type: 'integer', minimum: 0, maximum: limits.maxWaitMs },
});

const pageQuery = [
  {
    name: 'limit',
    in: 'query',
    required: false,
    description: 'entries per page',
    schema: { type: 'integer', minimum: 1, maximum: limits.maxEntriesPage, default: limits.defaultEntriesPage },
  },
  {
    name: 'cursor',
    in: 'query',
    required: false,
    description: '`next` of the previous page',
    schema: { type: 'string', pattern: '^[0-9]{1,16}$' },
  },
];

const lastEventIdHeader = {
  name: 'Last-Event-ID',
  in: 'header',
  required: false,
  description: 'the id of the last event received: the stream resumes after it (within its window)',
  schema: { type: 'string', maxLength: 40 },
};

/** A live stream (Server-Sent Events): its events as text/event-stream. */
const stream = (operationId: string, summary: string, params: Json[], events: string) => ({
  get: {
    operationId,
    summary,
    parameters: [...params, lastEventIdHeader],
    responses: {
      200: {
        description: `text/event-stream: ${events}; a comment line every heartbeat`,
        content: { 'text/event-stream': { schema: { type: 'string' } } },
      },
      ...errors(400, 401, 403, 404, 500, 503),
    },
  },
});

const read = (operationId: string, summary: string, params: Json[], answer: string) => ({
  get: {
    operationId,
    summary,
    parameters: params,
    responses: { 200: { description: summary, content: json(ref(answer)) }, ...readErrors() },
  },
});

export function openApiDocument(): Json {
  const transactions = Object.fromEntries(publicTypes.map((t) => [t, transactionSchema(t)]));
  const schemas: Record<string, Json> = {
    ...answerSchemas(),
    ...transactions,
    TransactionRequest: { oneOf: publicTypes.map(ref), description: 'one transaction: `type` says which' },
  };

  const paths: Record<string, Json> = {
    '/v1/transactions': {
      post: {
        operationId: 'postTransaction',
        summary: 'Validate one transaction and publish it to Kafka (acks=all): 202 once Kafka acknowledged it',
        parameters: [
          {
            ...idParam('Idempotency-Key', 'the transaction id (as body `id`; the same value if both)'),
            in: 'header',
            required: false,
          },
          waitQuery('200 with it when decided within the wait, else the usual 202'),
        ],
        requestBody: { required: true, content: json(ref('TransactionRequest')) },
        responses: {
          200: {
            description: 'with ?wait=: the outcome, decided within the wait',
            content: json(ref('DecidedTransaction')),
          },
          202: {
            description: 'accepted: durable in Kafka',
            headers: {
              'Idempotent-Replayed': {
                description: '`true` when the id was accepted before',
                schema: { type: 'string', enum: ['true'] },
              },
            },
            content: json(ref('Accepted')),
            links: { getTransaction: { operationId: 'getTransaction', parameters: { id: '$response.body#/id' } } },
          },
          ...errors(400, 401, 403, 409, 413, 415, 422, 429, 500, 503),
        },
      },
    },
    '/v1/transactions/batch': {
      post: {
        operationId: 'postTransactionBatch',
        summary: `Up to ${limits.maxBatchItems} transactions, each accepted or refused on its own`,
        requestBody: { required: true, content: json(ref('BatchRequest')) },
        responses: {
          200: { description: 'one result per item, in order', content: json(ref('BatchResults')) },
          ...errors(400, 401, 403, 413, 415, 429, 500, 503),
        },
      },
    },
    '/v1/transactions/{id}': read(
      'getTransaction',
      "A transaction's status and outcome",
      [
        idParam('id', 'transaction id'),
        waitQuery('answers as soon as it is decided, or pending when the wait runs out'),
      ],
      'Transaction',
    ),
    '/v1/transactions/stream': stream(
      'streamTransactions',
      'Every outcome as it is recorded',
      [],
      "`outcome` events (id, type, status, code, result, ingestedAt, appliedAt), id the feed's; `gap` when a resume reaches past the feed",
    ),
    '/v1/stock/{sku}/stream': stream(
      'streamStock',
      "A sku's counts after every change",
      [idParam('sku', 'sku')],
      '`stock` events: the counts (as GET /v1/stock/{sku}) and, for a change, how each moved; first the current counts',
    ),
    '/v1/events/{event}/seats/stream': stream(
      'streamSeats',
      "An event's seats after every change",
      [idParam('event', 'event')],
      '`seats` (the whole map with its counts, first and after a redefinition) and `change` events (the seats that changed, their new state, the counts)',
    ),
    '/v1/accounts/{id}': read('getAccount', 'An account', [idParam('id', 'account')], 'Account'),
    '/v1/accounts/{id}/entries': read(
      'getAccountEntries',
      "An account's history, newest first",
      [idParam('id', 'account'), ...pageQuery],
      'AccountEntries',
    ),
    '/v1/stock/{sku}/entries': read(
      'getStockEntries',
      "A sku's history, newest first",
      [idParam('sku', 'sku'), ...pageQuery],
      'StockEntries',
    ),
    '/v1/events/{event}/entries': read(
      'getEventEntries',
      "An event's seat history, newest first",
      [idParam('event', 'event'), ...pageQuery],
      'SeatEntries',
    ),
    '/v1/accounts/{id}/holds/{hold}': read(
      'getAccountHold',
      'A wallet hold',
      [idParam('id', 'account'), idParam('hold', 'hold id')],
      'Hold',
    ),
    '/v1/stock/{sku}': read('getStock', "A sku's stock", [idParam('sku', 'sku')], 'Stock'),
    '/v1/stock/{sku}/reservations/{reservation}': read(
      'getReservation',
      'A stock reservation',
      [idParam('sku', 'sku'), idParam('reservation', 'reservation id')],
      'Hold',
    ),
    '/v1/events/{event}/seats': read('getSeats', "An event's seat map", [idParam('event', 'event')], 'Seats'),
    '/v1/events/{event}/holds/{hold}': read(
      'getSeatHold',
      'A seat hold',
      [idParam('event', 'event'), idParam('hold', 'hold id')],
      'Hold',
    ),
    '/healthz': {
      get: {
        operationId: 'health',
        summary: 'The process is up',
        responses: { 200: { description: 'up', content: json(ref('Health')) } },
      },
    },
    '/readyz': {
      get: {
        operationId: 'ready',
        summary: 'Kafka and Redis are reachable',
        responses: {
          200: { description: 'ready', content: json(ref('Readiness')) },
          503: { description: 'not ready', content: json(ref('Readiness')) },
        },
      },
    },
    '/metrics': {
      get: {
        operationId: 'metrics',
        summary: 'Prometheus metrics',
        responses: {
          200: { description: 'text exposition format', content: { 'text/plain': { schema: { type: 'string' } } } },
        },
      },
    },
    '/openapi.json': {
      get: {
        operationId: 'openapi',
        summary: 'This document',
        responses: { 200: { description: 'OpenAPI 3.1', content: json({ type: 'object' }) } },
      },
    },
    '/console': {
      get: {
        operationId: 'console',
        summary: "A live page: an event's seat map, a sku's counts, the latest outcomes",
        responses: { 200: { description: 'an HTML page', content: { 'text/html': { schema: { type: 'string' } } } } },
      },
    },
    '/docs': {
      get: {
        operationId: 'docs',
        summary: 'Swagger UI for this document',
        responses: { 200: { description: 'an HTML page', content: { 'text/html': { schema: { type: 'string' } } } } },
      },
    },
  };

  return {
    openapi: '3.1.0',
    info: {
      title: 'txpipe ingest-api',
      version: '1',
      description:
        'Transactions are accepted (202) once durable in Kafka and applied by the processor; read their outcome with GET /v1/transactions/{id}.',
    },
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    paths: withApiKey(paths),
    components: {
      schemas,
      securitySchemes: {
        apiKey: {
          type: 'http',
          scheme: 'bearer',
          description:
            'an API key (`npm run keys -- create`): its scope says which types it may post, what it may read, and which entities',
        },
      },
    },
  };
}

/** Every /v1 operation asks for an API key (unless the deployment runs with TXPIPE_AUTH=off). */
function withApiKey(paths: Record<string, Json>): Record<string, Json> {
  return Object.fromEntries(
    Object.entries(paths).map(([path, item]) => [
      path,
      path.startsWith('/v1/')
        ? Object.fromEntries(
            Object.entries(item as Record<string, Json>).map(([method, op]) => [
              method,
              { ...(op as object), security: [{ apiKey: [] }] },
            ]),
          )
        : item,
    ]),
  );
}

/** Generated once: the schemas do not change while the process runs. */
let cached: string | undefined;
export const openApiJson = () => (cached ??= JSON.stringify(openApiDocument()));
