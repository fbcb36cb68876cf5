// The HTTP surface of ingest-api. Handlers stay thin: parse, accept, answer.
import express, { type NextFunction, type Request, type Response } from 'express';
import { domainRegistry, domains } from '../common/domains.ts';
import { Id } from '../common/messages/fields.ts';
import { ingestRejected, ingestRequestDuration, ingestRequests } from '../common/metrics.ts';
import { handleOps, type ReadinessCheck } from '../common/ops-server.ts';
import { limits } from '../common/limits.ts';
import { acceptedBody, type AcceptDeps } from './accept.ts';
import { decodeJson, readBody, type JsonBody } from './body.ts';
import { ApiError, fromZod } from './errors.ts';
import { acceptBatch } from './accept-batch.ts';
import { acceptTransaction, type TransactionDeps } from './hot-path.ts';
import { parseBatch } from './parse.ts';
import { readEntity, readHold, readTransaction } from './reads.ts';

export interface AppDeps extends AcceptDeps, TransactionDeps {
  ready: ReadinessCheck;
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
const jsonBody = (limit: number, itemDepth?: number, maxIssues?: number) => async (req: Request, res: Response, next: NextFunction) => {
  try {
    res.locals.body = decodeJson(await readBody(req, limit), req.get('content-type'), itemDepth, maxIssues) satisfies JsonBody;
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

export function createApp(deps: AppDeps) {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use(observeRequests);

  const requireJson = (req: Request, _res: Response, next: NextFunction) => {
    if (!req.is('application/json')) return next(new ApiError(415, 'unsupported_media_type', 'send Content-Type: application/json'));
    next();
  };

  // Plain requests to this route are answered by hot-path.ts without Express, with the same handler.
  app.post('/v1/transactions', requireJson, jsonBody(limits.maxBodyBytes), route(async (req, res) => {
    const result = await acceptTransaction(deps, bodyOf(res), req.get('Idempotency-Key'));
    if (result.replayed) res.set('Idempotent-Replayed', 'true');
    res.status(202).json(acceptedBody(result));
  }));

  // Each item accepted or refused on its own: 200 with one result per item, in order.
  // I-JSON issues are the items' own (transactions.<i>.<field>): up to one per item, and one more says too many items.
  app.post('/v1/transactions/batch', requireJson, jsonBody(limits.maxBatchBytes, 2, limits.maxBatchItems + 1), route(async (req, res) => {
    if (req.get('Idempotency-Key') !== undefined) {
      throw new ApiError(400, 'invalid_value', 'a batch takes no Idempotency-Key: give each transaction its own id', 'Idempotency-Key');
    }
    const body = bodyOf(res);
    res.json({ results: await acceptBatch(deps, parseBatch(body.value, body.issues), body.issues) });
  }));

  app.get('/v1/transactions/:id', route(async (req, res) => {
    res.json(await readTransaction(deps.redis, idParam(req.params.id, 'id')));
  }));

  // Each domain's entity and holds (common/domains.ts). Path parameters come in path order: entity, hold.
  for (const domain of domains) {
    const { entity, hold, routes } = domainRegistry[domain];
    app.get(routes.entity, route(async (req, res) => {
      const [entityId] = Object.values(req.params);
      res.json(await readEntity[domain](deps.redis, idParam(entityId, entity)));
    }));
    app.get(routes.hold, route(async (req, res) => {
      const [entityId, holdId] = Object.values(req.params);
      res.json(await readHold(deps.redis, domain, idParam(entityId, entity), idParam(holdId, hold), hold));
    }));
  }

  app.get(['/healthz', '/readyz', '/metrics'], async (req, res) => {
    const r = await handleOps(req.path, deps.ready)!;
    res.status(r.status).type(r.type).send(r.body);
  });

  app.use((_req: Request, _res: Response, next: NextFunction) => next(new ApiError(404, 'not_found', 'no such route')));

  // One error path: ApiErrors as they are, a path the router cannot decode as a 400, anything else as 500.
  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    if (err instanceof ApiError) return sendError(res, err);
    if (err instanceof URIError) return sendError(res, new ApiError(400, 'invalid_format', 'the path has a malformed percent-escape'));
    deps.log.error('unhandled error', { error: (err as Error).message, stack: (err as Error).stack });
    sendError(res, new ApiError(500, 'internal', 'internal error'));
  });
  return app;
}
