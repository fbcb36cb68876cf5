// Stage 1's reference: the least a Node HTTP process can do per transaction — read the body, parse the
// JSON, answer 202 with an id — and nothing else. Its rate is this machine's ceiling for one Node process.
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';

const port = Number(process.argv[2] ?? 0);
const server = createServer((req, res) => {
  if (req.method === 'GET') {
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
    return;
  }
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    let body: { id?: unknown };
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { id?: unknown };
    } catch {
      res.writeHead(400, { 'content-type': 'application/json' }).end('{"code":"invalid_json"}');
      return;
    }
    const id = typeof body.id === 'string' ? body.id : randomUUID();
    res.writeHead(202, { 'content-type': 'application/json' }).end(JSON.stringify({ id, status: 'accepted' }));
  });
});
server.keepAliveTimeout = 65_000;
server.listen(port, '127.0.0.1', () => {
  const addr = server.address();
  process.stdout.write(`${typeof addr === 'object' && addr ? addr.port : port}\n`);
});
process.on('SIGTERM', () => process.exit(0));
