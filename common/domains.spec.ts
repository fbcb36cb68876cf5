// Every domain of the registry is wired everywhere a domain is listed outside the type system's reach.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { commandOf } from '../processor/commands/index.ts';
import { expireCommand } from '../processor/sweeper.ts';
import { topics } from './config.ts';
import { domainRegistry, domains } from './domains.ts';
import { anyMessage, messageTypes, type Message, type MessageTypeName } from './messages/index.ts';

const typesOf = (domain: string) =>
  (Object.keys(messageTypes) as MessageTypeName[]).filter((t) => messageTypes[t].domain === domain);

it('the topics are one per domain, then results and dead letters', () => {
  expect(topics('p')).toEqual({
    ...Object.fromEntries(domains.map((d) => [d, `p.${d}`])),
    results: 'p.results',
    dlq: 'p.dlq',
  });
});

it('docker-compose.yml creates every topic', () => {
  const compose = parseYaml(readFileSync(new URL('../docker-compose.yml', import.meta.url), 'utf8')) as {
    services: { topics: { command: string[] } };
  };
  const loop = /for t in ([\w ]+); do/.exec(compose.services.topics.command.join('\n'));
  expect(loop?.[1]?.split(' ')).toEqual(Object.values(topics('')).map((t) => t.slice(1)));
});

it('every message type is named after its domain, and its command runs in that domain', () => {
  const wrong = (Object.keys(messageTypes) as MessageTypeName[]).filter(
    (t) =>
      !t.startsWith(`${messageTypes[t].domain}.`) ||
      commandOf({ type: t } as Message).domain !== messageTypes[t].domain,
  );
  expect(wrong).toEqual([]);
});

describe.each(domains)('domain %s', (domain) => {
  const { entity, hold, routes } = domainRegistry[domain];

  it('has public message types', () => {
    expect(typesOf(domain).filter((t) => messageTypes[t].public).length).toBeGreaterThan(0);
  });

  it('has an internal expire type the sweeper can build', () => {
    const type = `${domain}.expire`;
    expect(Object.hasOwn(messageTypes, type) && !messageTypes[type as MessageTypeName].public).toBe(true);
    const m = expireCommand(domain, 'E1', 'H1');
    expect(anyMessage.parse(m)).toEqual(m);
    expect((m as Record<string, unknown>)[entity]).toBe('E1');
  });

  it('has public types that name a hold by its field (the reference checks look for it)', () => {
    const naming = typesOf(domain).filter(
      (t) => messageTypes[t].public && hold in (messageTypes[t].schema as { shape: object }).shape,
    );
    expect(naming.length).toBeGreaterThan(0);
  });

  it('has read routes with the entity first, then the hold', () => {
    expect(routes.entity).toMatch(/^\/v1\/[\w/]*:\w+/);
    expect(routes.hold.match(/:\w+/g)).toHaveLength(2);
  });
});
