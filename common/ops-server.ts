// A bare HTTP server for a service's operational endpoints: /healthz, /readyz, /metrics.
import { createServer, type Server } from 'node:http';
import { registry } from './metrics.ts';

export type ReadinessCheck = () => Promise<Record<string, boolean>>;

export function handleOps(
  path: string | undefined,
  ready: ReadinessCheck,
): Promise<{ status: number; type: string; body: string }> | undefined {
  if (path === '/healthz') return Promise.resolve({ status: 200, type: 'application/json', body: '{"status":"ok"}' });
  if (path === '/readyz') {
    return ready().then((checks) => {
      const ok = Object.values(checks).every(Boolean);
      return {
        status: ok ? 200 : 503,
        type: 'application/json',
        body: JSON.stringify({ status: ok ? 'ready' : 'not_ready', checks }),
      };
    });
  }
  if (path === '/metrics')
    return registry.metrics().then((body) => ({ status: 200, type: registry.contentType, body }));
  return undefined;
}

export function startOpsServer(host: string, port: number, ready: ReadinessCheck): Promise<Server> {
  const server = createServer((req, res) => {
    const reply =
      handleOps(req.url?.split('?')[0], ready) ??
      Promise.resolve({ status: 404, type: 'application/json', body: '{"code":"not_found"}' });
    reply.then(
      (r) => res.writeHead(r.status, { 'content-type': r.type }).end(r.body),
      (e: Error) =>
        res
          .writeHead(500, { 'content-type': 'application/json' })
          .end(JSON.stringify({ code: 'internal', message: e.message })),
    );
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}
