// The HTTP edge against hostile clients: slowloris connections are cut within the header timeout while a
// normal client is served, and every answer carries the edge's headers (request id, nosniff, no-store).
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { limits } from '../common/limits.ts';
import { startPipeline, uid, type Pipeline } from './harness.ts';

let p: Pipeline;
beforeAll(async () => {
  p = await startPipeline({ processor: false });
});
afterAll(async () => {
  await p?.stop();
});

const address = () => new URL(p.ingestUrl);

describe('headers of every answer', () => {
  it('request id echoed (or made), nosniff, no-store, no X-Powered-By, no CORS: the hot path and Express alike', async () => {
    const account = uid('acct');
    const answers = [
      await fetch(`${p.ingestUrl}/v1/transactions`, {
        method: 'POST',
        headers: {
          ...p.auth,
          'content-type': 'application/json',
          'x-request-id': 'req-1',
          origin: 'https://evil.example',
        },
        body: JSON.stringify({ type: 'wallet.open', account }),
      }),
      await fetch(`${p.ingestUrl}/v1/transactions?via=express`, {
        method: 'POST',
        headers: {
          ...p.auth,
          'content-type': 'application/json',
          'x-request-id': 'req-1',
          origin: 'https://evil.example',
        },
        body: '{',
      }),
      await fetch(`${p.ingestUrl}/v1/accounts/${account}`, { headers: { ...p.auth, 'x-request-id': 'req-1' } }),
      await fetch(`${p.ingestUrl}/v1/accounts/${account}`, { headers: { 'x-request-id': 'req-1' } }),
    ];
    expect(answers.map((r) => r.status)).toEqual([202, 400, 404, 401]);
    for (const r of answers) {
      expect(r.headers.get('x-request-id')).toBe('req-1');
      expect(r.headers.get('x-content-type-options')).toBe('nosniff');
      expect(r.headers.get('cache-control')).toBe('no-store');
      expect(r.headers.get('x-powered-by')).toBeNull();
      expect(r.headers.get('access-control-allow-origin')).toBeNull();
    }
    const made = await fetch(`${p.ingestUrl}/healthz`, { headers: { 'x-request-id': 'not plain; <script>' } });
    expect(made.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    const preflight = await fetch(`${p.ingestUrl}/v1/transactions`, {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
    });
    expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('headers over the bound -> 431, and the connection closed', async () => {
    const r = await fetch(`${p.ingestUrl}/v1/accounts/a`, {
      headers: { ...p.auth, 'x-big': 'x'.repeat(limits.maxHeaderBytes) },
    });
    expect(r.status).toBe(431);
  });
});

describe('slowloris', () => {
  it('200 connections sending a header byte a second are closed within the header timeout; a normal client meanwhile is served', async () => {
    const { hostname, port } = address();
    const opened = Date.now();
    const closedAfter: number[] = [];
    const sockets = Array.from({ length: 200 }, () => {
      const s = net.connect({ host: hostname, port: Number(port) });
      s.on('error', () => undefined);
      s.on('connect', () => s.write('GET /v1/accounts/a HTTP/1.1\r\nHost: x\r\nX-Slow: '));
      const drip = setInterval(() => {
        if (!s.destroyed) s.write('a');
      }, 1000);
      s.on('close', () => {
        clearInterval(drip);
        closedAfter.push(Date.now() - opened);
      });
      return s;
    });

    // The normal client: a transaction every 50 ms while the slow ones hang on.
    const latencies: number[] = [];
    const statuses: number[] = [];
    const deadline = opened + limits.headersTimeoutMs + 3000;
    while (Date.now() < deadline && closedAfter.length < sockets.length) {
      const t = performance.now();
      const r = await fetch(`${p.ingestUrl}/v1/transactions`, {
        method: 'POST',
        headers: { ...p.auth, 'content-type': 'application/json' },
        body: JSON.stringify({ type: 'wallet.open', account: uid('a') }),
      });
      statuses.push(r.status);
      await r.body?.cancel();
      latencies.push(performance.now() - t);
      await new Promise((r) => setTimeout(r, 50));
    }
    const bound = limits.headersTimeoutMs + limits.edgeCheckIntervalMs + 1500;
    while (closedAfter.length < sockets.length && Date.now() - opened < bound + 1000)
      await new Promise((r) => setTimeout(r, 100));
    const [closedByServer, last] = [closedAfter.length, Math.max(...closedAfter)];
    for (const s of sockets) s.destroy();

    expect(closedByServer, 'every slow connection closed by the server').toBe(sockets.length);
    expect(last).toBeLessThanOrEqual(bound);
    expect(statuses.every((s) => s === 202)).toBe(true);
    const p99 = [...latencies].sort((a, b) => a - b)[Math.floor(latencies.length * 0.99)]!;
    expect(p99, `normal client p99 ${p99.toFixed(0)} ms`).toBeLessThan(500);
  });
});
