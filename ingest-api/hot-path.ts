// The hot path: `POST /v1/transactions` in its plain form answered by node:http directly, everything else
// by the Express app. Express's per-request cost (router, body-parser, response helpers, prototype swaps)
// was a large share of ingest-api's CPU per transaction (BENCHMARKS.md); this path does the same work without it.
//
// Same behaviour by construction: the handler (acceptTransaction) is the one the Express route runs, and
// only requests whose headers leave no room for difference take this path — exact path without a query,
// Content-Type application/json (optionally charset=utf-8), a Content-Length within the limit, no
// Content-Encoding or Transfer-Encoding. Anything else (gzip, chunked, other charsets, too large, a
// trailing slash...) goes to Express, which stays the reference (test/hot-path.test.ts compares the two).
// Both read and decode the body with body.ts.
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { limits } from '../common/limits.ts';
import { Id } from '../common/messages/fields.ts';
import { ingestRejected, ingestRequestDuration, ingestRequests } from '../common/metrics.ts';
import { acceptedBody, type Accepted } from './accept.ts';
import { decodeJson, issueError, readBody, type JsonBody } from './body.ts';
import { ApiError } from './errors.ts';
import { parseTransaction } from './parse.ts';
import type { AcceptWindow } from './window.ts';
import type { Logger } from '../common/log.ts';
import { producerTransactions } from '../common/metrics.ts';
import { forbidden, type Authenticator, type Principal } from './auth.ts';
import { inNamespace } from './namespace.ts';
import type { RateLimiter } from './rate-limit.ts';
import { checkTransaction } from './scope.ts';
import { edgeHeaders } from './edge.ts';

export interface TransactionDeps {
  window: AcceptWindow;
  log: Logger;
  auth: Authenticator;
  limiter: RateLimiter;
}

/** The route handler's work, shared by the Express route and the hot path: parse, check the key's scope, then
 * check and accept (in the producer's namespace) together with the requests of the same window (window.ts). */
export async function acceptTransaction(
  deps: TransactionDeps,
  body: JsonBody,
  idempotencyKey: string | undefined,
  principal: Principal,
): Promise<Accepted> {
  const producer = principal.producer ?? 'anonymous';
  try {
    if (body.issues[0]) throw issueError(body.issues[0]);
    const message = parseTransaction(body.value, idempotencyKey);
    const denied = checkTransaction(principal.scope, message);
    if (denied) throw forbidden(principal, denied);
    const result = await deps.window.accept(inNamespace(message, principal.namespace), principal.producer);
    if (result instanceof ApiError) throw result;
    producerTransactions.inc({ producer, outcome: 'accepted' });
    return result;
  } catch (e) {
    producerTransactions.inc({ producer, outcome: 'refused' });
    throw e;
  }
}

const route = '/v1/transactions';
const jsonTypes = new Set(['application/json', 'application/json; charset=utf-8', 'application/json;charset=utf-8']);

/** True when the request takes the hot path (exported for test/hot-path.test.ts). */
export function takesHotPath(req: Pick<IncomingMessage, 'method' | 'url' | 'headers'>): boolean {
  const h = req.headers;
  if (req.method !== 'POST' || req.url !== route) return false;
  const type = h['content-type'];
  if (type === undefined || !jsonTypes.has(type.toLowerCase())) return false;
  if (h['content-encoding'] !== undefined || h['transfer-encoding'] !== undefined) return false;
  // Node's parser has already refused a malformed or repeated Content-Length.
  const length = h['content-length'];
  return length !== undefined && Number(length) <= limits.maxBodyBytes;
}

/** Wraps the Express app: plain `POST /v1/transactions` here, the rest to `app`. */
export function withHotPath(
  deps: TransactionDeps,
  app: RequestListener,
  maxInFlight: number = limits.maxInFlightRequests,
): RequestListener {
  const respond = (
    res: ServerResponse,
    started: number,
    status: number,
    body: unknown,
    headers?: Record<string, string>,
  ) => {
    const json = JSON.stringify(body);
    res.writeHead(status, {
      ...headers,
      'Content-Type': 'application/json; charset=utf-8',
      'Content-Length': Buffer.byteLength(json),
    });
    res.end(json);
    // As app.ts observeRequests records them (route label = the route pattern).
    ingestRequestDuration.observe({ route }, (performance.now() - started) / 1000);
    ingestRequests.inc({ route, status: String(status) });
  };
  // As app.ts sendError and its error handler: ApiErrors as they are, anything else a logged 500.
  const fail = (res: ServerResponse, started: number, err: unknown, requestId: string) => {
    let e: ApiError;
    if (err instanceof ApiError) e = err;
    else {
      deps.log.error('unhandled error', { requestId, error: (err as Error).message, stack: (err as Error).stack });
      e = new ApiError(500, 'internal', 'internal error');
    }
    ingestRejected.inc({ code: e.code });
    respond(res, started, e.status, e, e.headers());
  };

  // The body is never read: Node discards it once the answer is sent, and the connection stays usable.
  const shed = (req: IncomingMessage, res: ServerResponse) => {
    const started = performance.now();
    // Nothing was read, so the id is known only when the client sent it as Idempotency-Key.
    const key = req.headers['idempotency-key'];
    const id = typeof key === 'string' && Id.safeParse(key).success ? key : undefined;
    const e = new ApiError(503, 'overloaded', 'ingest-api is at capacity; nothing was accepted', undefined, 1, {
      id,
      published: 'no',
    });
    ingestRejected.inc({ code: e.code });
    const json = JSON.stringify(e);
    res.writeHead(503, {
      'Retry-After': '1',
      'Content-Type': 'application/json; charset=utf-8',
      'Content-Length': Buffer.byteLength(json),
    });
    res.end(json);
    const label = req.url === route ? route : req.url?.startsWith(`${route}/batch`) ? `${route}/batch` : 'unmatched';
    ingestRequestDuration.observe({ route: label }, (performance.now() - started) / 1000);
    ingestRequests.inc({ route: label, status: '503' });
  };

  const handle = async (req: IncomingMessage, res: ServerResponse, started: number, requestId: string) => {
    try {
      // Who, then how fast, before a byte of the body is read (as app.ts's /v1 middleware and route).
      const principal = deps.auth.authenticate(req.headers.authorization);
      if (principal instanceof ApiError) throw principal;
      const limited = await deps.limiter.take(principal, 1);
      if (limited) throw limited;
      const body = decodeJson(await readBody(req, limits.maxBodyBytes), req.headers['content-type']);
      const result = await acceptTransaction(
        deps,
        body,
        req.headers['idempotency-key'] as string | undefined,
        principal,
      );
      respond(res, started, 202, acceptedBody(result), result.replayed ? { 'Idempotent-Replayed': 'true' } : undefined);
    } catch (e) {
      fail(res, started, e, requestId);
    }
  };

  // Admission: past maxInFlight transaction requests under way, the next ones are refused at once (503,
  // nothing read, nothing published) rather than queued behind them: when ingest-api is short of CPU, the
  // excess gets a fast answer and the accepted ones keep a bounded latency (and memory).
  let inFlight = 0;
  const done = () => {
    inFlight--;
  };

  return (req, res) => {
    // Every answer, here or from Express: request id, nosniff, no-store.
    const requestId = edgeHeaders(req, res);
    if (req.method === 'POST' && req.url?.startsWith(route)) {
      if (inFlight >= maxInFlight) return shed(req, res);
      inFlight++;
      res.once('close', done);
    }
    if (!takesHotPath(req)) return app(req, res);
    void handle(req, res, performance.now(), requestId);
  };
}
