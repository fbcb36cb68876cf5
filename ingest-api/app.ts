// The HTTP surface of ingest-api. Handlers stay thin: parse, accept, answer.
import express, { type NextFunction, type Request, type Response } from 'express';
import { domainRegistry, domains, type StreamDomain } from '../common/domains.ts';
import { Id } from '../common/messages/fields.ts';
import { ingestRejected, ingestRequestDuration, ingestRequests } from '../common/metrics.ts';
import { handleOps, type ReadinessCheck } from '../common/ops-server.ts';
import { limits } from '../common/limits.ts';
import { acceptedBody, type AcceptDeps } from './accept.ts';
import { decodeJson, readBody, type JsonBody } from './body.ts';
import { ApiError, fromZod } from './errors.ts';
import { acceptBatch } from './accept-batch.ts';
import { acceptTransaction, type TransactionDeps } from './hot-path.ts';
import { forbidden, type Principal } from './auth.ts';
import { clientIdOf, producerOf, scopedId } from '../common/keys.ts';
import { TxId } from '../common/messages/fields.ts';
import { checkRead } from './scope.ts';
import { parseBatch } from './parse.ts';
import { readEntity, readHold } from './reads.ts';
import { consolePage, docsPage, swaggerUiDir } from './docs.ts';
import { openApiJson } from './openapi.ts';
import { clientGone, readDecided, waitParam, type WaitDeps } from './wait.ts';
import { pageParams, readEntries } from './entries.ts';
import type { EntityStreams } from './entity-streams.ts';
import type { OutcomeStream, OutcomeView } from './outcome-stream.ts';
import { shownId } from './namespace.ts';
import { lastEventId, SseClient } from './sse.ts';

export interface AppDeps extends AcceptDeps, TransactionDeps, WaitDeps {
  ready: ReadinessCheck;
  /** Live streams (SSE). */
  streams: { entities: EntityStreams; outcomes: OutcomeStream };
}

type Handler = (req: Request, res: Response) => Promise<void>;

/**
 * Request metrics for every response, also those refused by middleware before the handler (415, invalid
 * JSON, too large) and unknown paths. The route label is the Express route pattern, a bounded set, never
 * the URL (it carries ids).
 */
function observeRequests(req: Request, res: Response, next: NextFunction) {
  const started = performance.now();
  res.on('finish', () => {
    const pattern: unknown = req.route?.path;
    const route = pattern === undefined ? 'unmatched' : Array.isArray(pattern) ? req.path : String(pattern);
    ingestRequestDuration.observe({ route }, (performance.now() - started) / 1000);
    ingestRequests.inc({ route, status: String(res.statusCode) });
  });
  next();
}

/** Passes a handler's failure to the one error path. */
const route = (h: Handler) => async (req: Request, res: Response, next: NextFunction) => {
  try {
    await h(req, res);
  } catch (e) {
    next(e);
  }
};

function sendError(res: Response, e: ApiError) {
  ingestRejected.inc({ code: e.code });
  const headers = e.headers();
  if (headers) res.set(headers);
  res.status(e.status).json(e);
}

/** The body read and decoded as on the hot path (body.ts), in res.locals.body. */
const jsonBody =
  (limit: number, itemDepth?: number, maxIssues?: number) =>
  async (req: Request, res: Response, next: NextFunction) => {
    try {
      res.locals.body = decodeJson(
        await readBody(req, limit),
        req.get('content-type'),
        itemDepth,
        maxIssues,
      ) satisfies JsonBody;
    } catch (e) {
      return next(e);
    }
    next();
  };
const bodyOf = (res: Response) => res.locals.body as JsonBody;

function idParam(value: unknown, field: string): string {
  const r = Id.safeParse(value);
  if (!r.success) throw fromZod(r.error, value, field);
  return r.data;
}

const principalOf = (res: Response) => res.locals.principal as Principal;

/**
 * A transaction (or hold) id in the path, as stored: in the reader's namespace, so another producer's is
 * simply not found. A key that reads everything may also name one as stored (`<producer>~<id>`).
 */
function txParam(res: Response, value: unknown, field: string): string {
  const p = principalOf(res);
  if (
    p.scope.read === 'all' &&
    typeof value === 'string' &&
    TxId.safeParse(value).success &&
    clientIdOf(value) !== value
  )
    return value;
  return scopedId(p.namespace, idParam(value, field));
}

/** An entity in the path, refused 403 outside the key's read scope. */
function entityParam(res: Response, value: unknown, field: string): string {
  const entity = idParam(value, field);
  const denied = checkRead(principalOf(res).scope, { field, value: entity });
  if (denied) throw forbidden(principalOf(res), denied);
  return entity;
}

export function createApp(deps: AppDeps) {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use(observeRequests);

  // Every /v1 route first asks who is asking (401 before anything else is looked at), and for reads whether
  // it may. Per route rather than for the /v1 prefix, so the request metrics carry the route of a refusal too.
  const authenticated = (req: Request, res: Response, next: NextFunction) => {
    const principal = deps.auth.authenticate(req.get('authorization'));
    if (principal instanceof ApiError) return next(principal);
    res.locals.principal = principal;
    if (req.method === 'GET') {
      const denied = checkRead(principal.scope);
      if (denied) return next(forbidden(principal, denied));
    }
    next();
  };

  /** The key's token bucket pays `cost` before the body is read (a single transaction costs 1). */
  const rateLimited = (cost: number) => async (_req: Request, res: Response, next: NextFunction) => {
    try {
      const refused = await deps.limiter.take(principalOf(res), cost);
      next(refused);
    } catch (e) {
      next(e);
    }
  };

  const requireJson = (req: Request, _res: Response, next: NextFunction) => {
    if (!req.is('application/json'))
      return next(new ApiError(415, 'unsupported_media_type', 'send Content-Type: application/json'));
    next();
  };

  // Plain requests to this route are answered by hot-path.ts without Express, with the same handler.
  app.post(
    '/v1/transactions',
    authenticated,
    requireJson,
    rateLimited(1),
    jsonBody(limits.maxBodyBytes),
    route(async (req, res) => {
      const waitMs = waitParam(req);
      const result = await acceptTransaction(deps, bodyOf(res), req.get('Idempotency-Key'), principalOf(res));
      if (result.replayed) res.set('Idempotent-Replayed', 'true');
      // ?wait=: 200 with the outcome when it is decided in time; else (or if Redis cannot say) the usual 202.
      const decided = waitMs
        ? await readDecided(deps, result.id, waitMs, clientGone(res), clientIdOf(result.id)).catch(() => undefined)
        : undefined;
      if (decided && decided.status !== 'pending') res.status(200).json(decided);
      else res.status(202).json(acceptedBody(result));
    }),
  );

  // Each item accepted or refused on its own: 200 with one result per item, in order.
  // I-JSON issues are the items' own (transactions.<i>.<field>): up to one per item, and one more says too many items.
  app.post(
    '/v1/transactions/batch',
    authenticated,
    requireJson,
    jsonBody(limits.maxBatchBytes, 2, limits.maxBatchItems + 1),
    route(async (req, res) => {
      if (req.get('Idempotency-Key') !== undefined) {
        throw new ApiError(
          400,
          'invalid_value',
          'a batch takes no Idempotency-Key: give each transaction its own id',
          'Idempotency-Key',
        );
      }
      const body = bodyOf(res);
      const items = parseBatch(body.value, body.issues);
      // A batch costs its items, paid before any is claimed or published.
      const refused = await deps.limiter.take(principalOf(res), items.length);
      if (refused) throw refused;
      res.json({ results: await acceptBatch(deps, items, body.issues, principalOf(res)) });
    }),
  );

  // Before /v1/transactions/:id, which would take `stream` for an id.
  app.get(
    '/v1/transactions/stream',
    authenticated,
    route(async (req, res) => {
      const { entities, outcomes } = deps.streams;
      const { namespace, scope } = principalOf(res);
      // A producer sees its own outcomes, with its ids as it sent them; a key that reads everything, all of them.
      const view: OutcomeView = (o) =>
        scope.read === 'all' || producerOf(o.id) === namespace ? { ...o, id: shownId(o.id, namespace) } : undefined;
      await outcomes.watch(() => new SseClient(res), lastEventId(req.headers, req.query), entities.clients, view);
    }),
  );

  app.get(
    '/v1/transactions/:id',
    authenticated,
    route(async (req, res) => {
      const stored = txParam(res, req.params.id, 'id');
      res.json(await readDecided(deps, stored, waitParam(req), clientGone(res), req.params.id as string));
    }),
  );

  // Each domain's entity, holds, history and live stream (common/domains.ts). Path parameters come in path
  // order: entity, hold.
  for (const domain of domains) {
    const { entity, hold, routes } = domainRegistry[domain];
    app.get(
      routes.entity,
      authenticated,
      route(async (req, res) => {
        const [entityId] = Object.values(req.params);
        res.json(await readEntity[domain](deps.redis, entityParam(res, entityId, entity), principalOf(res).namespace));
      }),
    );
    app.get(
      routes.hold,
      authenticated,
      route(async (req, res) => {
        const [entityId, holdId] = Object.values(req.params) as [string, string];
        res.json(
          await readHold(
            deps.redis,
            domain,
            entityParam(res, entityId, entity),
            txParam(res, holdId, hold),
            hold,
            holdId,
          ),
        );
      }),
    );
    app.get(
      routes.entries,
      authenticated,
      route(async (req, res) => {
        const [entityId] = Object.values(req.params);
        res.json(await readEntries(deps.redis, domain, entityParam(res, entityId, entity), entity, pageParams(req)));
      }),
    );
    if ('stream' in routes) {
      app.get(
        routes.stream,
        authenticated,
        route(async (req, res) => {
          const [entityId] = Object.values(req.params);
          await deps.streams.entities.watch(
            domain as StreamDomain,
            entityParam(res, entityId, entity),
            () => new SseClient(res),
            lastEventId(req.headers, req.query),
            deps.streams.outcomes.size,
          );
        }),
      );
    }
  }

  app.get(['/healthz', '/readyz', '/metrics'], async (req, res) => {
    const r = await handleOps(req.path, deps.ready)!;
    res.status(r.status).type(r.type).send(r.body);
  });

  app.get('/openapi.json', (_req, res) => {
    res.type('application/json').send(openApiJson());
  });
  app.get('/docs', (_req, res) => {
    res.type('html').send(docsPage);
  });
  app.use('/docs', express.static(swaggerUiDir, { index: false }));
  app.get('/console', (_req, res) => {
    res.type('html').send(consolePage);
  });

  app.use((_req: Request, _res: Response, next: NextFunction) => next(new ApiError(404, 'not_found', 'no such route')));

  // One error path: ApiErrors as they are, a path the router cannot decode as a 400, anything else as 500.
  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    if (err instanceof ApiError) return sendError(res, err);
    if (err instanceof URIError)
      return sendError(res, new ApiError(400, 'invalid_format', 'the path has a malformed percent-escape'));
    deps.log.error('unhandled error', {
      requestId: res.getHeader('X-Request-Id'),
      error: (err as Error).message,
      stack: (err as Error).stack,
    });
    sendError(res, new ApiError(500, 'internal', 'internal error'));
  });
  return app;
}
