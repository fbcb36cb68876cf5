// toxiproxy (Shopify's TCP proxy for fault injection) for the test stack: its server on 127.0.0.1, and
// proxies in front of any TCP address, so a test can delay, swallow or cut what one service sends or
// receives (latency, timeout, reset_peer, limit_data... toxics) while the others talk directly.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Toxiproxy, type Proxy } from 'toxiproxy-node-client';
import { freePort } from './ports.ts';
import { commandExists, logTo, spawnOwned, stopChild, waitChildReady } from './proc.ts';

/** The server's Go module; `go install` names its binary `server`, kept as `toxiproxy-server`. */
export const toxiproxyModule = 'github.com/Shopify/toxiproxy/v2/cmd/server@v2.12.0';
const defaultBinary = path.join(os.homedir(), 'go', 'bin', 'toxiproxy-server');

export const toxiproxyMissing =
  `toxiproxy-server not found (on PATH, at ${defaultBinary}, or TXPIPE_TOXIPROXY_SERVER): .ci/run installs it, or ` +
  `build it yourself: GOBIN=/tmp/toxiproxy go install ${toxiproxyModule} && mv /tmp/toxiproxy/server ${defaultBinary}`;

/** The server binary: TXPIPE_TOXIPROXY_SERVER, `toxiproxy-server` on PATH, or where .ci/run installs it. */
export function findToxiproxyServer(): string | undefined {
  const candidates = [process.env.TXPIPE_TOXIPROXY_SERVER, 'toxiproxy-server', defaultBinary];
  return candidates.find((c): c is string => !!c && commandExists(c, ['-version']));
}

export interface ToxiproxyServer {
  /** The HTTP API, e.g. http://127.0.0.1:8474. */
  url: string;
  stop(): Promise<void>;
}

export interface StartToxiproxyOptions {
  logFile: string;
  port?: number;
}

export async function startToxiproxy(opts: StartToxiproxyOptions): Promise<ToxiproxyServer> {
  const bin = findToxiproxyServer();
  if (!bin) throw new Error(toxiproxyMissing);
  const port = opts.port ?? (await freePort());
  const url = `http://127.0.0.1:${port}`;
  fs.mkdirSync(path.dirname(opts.logFile), { recursive: true });
  const child = spawnOwned(bin, ['-host', '127.0.0.1', '-port', String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
  logTo(child, opts.logFile);
  const stop = () => stopChild(child, 5_000);
  const probe = () =>
    fetch(`${url}/version`).then(
      (r) => r.ok,
      () => false,
    );
  await waitChildReady(child, {
    what: `toxiproxy-server on port ${port}`,
    logFile: opts.logFile,
    timeoutMs: 10_000,
    probe,
    stop,
  });
  return { url, stop };
}

/** Only loopback addresses: the proxies are for tests on this machine. */
const loopback = /^127\.0\.0\.1:\d+$/;

/**
 * A proxy named `name` on 127.0.0.1:`listenPort` (a free port when omitted) in front of `upstream`
 * ("127.0.0.1:<port>"); clients that connect to `proxy.listen` reach `upstream` through it. An existing
 * proxy of that name is replaced.
 */
export async function proxyTcp(
  toxiproxyUrl: string,
  name: string,
  upstream: string,
  listenPort?: number,
): Promise<Proxy> {
  if (!loopback.test(upstream)) throw new Error(`proxyTcp: upstream ${upstream} is not a 127.0.0.1 address`);
  const toxiproxy = new Toxiproxy(toxiproxyUrl);
  await toxiproxy.get(name).then(
    (p) => p.remove(),
    () => undefined,
  );
  const listen = `127.0.0.1:${listenPort ?? (await freePort())}`;
  return toxiproxy.createProxy({ name, listen, upstream });
}

/** The proxy named `name` on the server at `toxiproxyUrl`. */
export const getProxy = (toxiproxyUrl: string, name: string): Promise<Proxy> => new Toxiproxy(toxiproxyUrl).get(name);
