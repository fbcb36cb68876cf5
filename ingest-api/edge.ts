// The HTTP edge, for the Express app and the hot path alike (one node:http server carries both): timeouts
// and bounds that keep a hostile client from holding resources, and the headers every answer carries.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, Server, ServerOptions, ServerResponse } from 'node:http';
import { limits } from '../common/limits.ts';

/** The server options that must be given when the server is created (common/limits.ts says why each). */
export const serverOptions: ServerOptions = {
  headersTimeout: limits.headersTimeoutMs,
  requestTimeout: limits.requestTimeoutMs,
  connectionsCheckingInterval: limits.edgeCheckIntervalMs,
  maxHeaderSize: limits.maxHeaderBytes,
  keepAliveTimeout: limits.keepAliveTimeoutMs,
};

/** The bounds set on the server itself. */
export function bound(server: Server): Server {
  server.maxConnections = limits.maxConnections;
  server.maxRequestsPerSocket = limits.maxRequestsPerSocket;
  server.keepAliveTimeout = limits.keepAliveTimeoutMs;
  return server;
}

// A client's request id is echoed only when it is a plain token: it goes into logs and headers as is.
const plainId = /^[A-Za-z0-9._:@-]{1,128}$/;

/**
 * The headers of every answer: the request id (the client's X-Request-Id when plain, else a new one), no
 * MIME sniffing, nothing cached (answers carry balances and states of the moment). No CORS header: browsers
 * of other origins may not call the API. Returns the request id, for the logs.
 */
export function edgeHeaders(req: IncomingMessage, res: ServerResponse): string {
  const sent = req.headers['x-request-id'];
  const id = typeof sent === 'string' && plainId.test(sent) ? sent : randomUUID();
  res.setHeader('X-Request-Id', id);
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Cache-Control', 'no-store');
  return id;
}
