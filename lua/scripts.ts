// Loads the Lua command scripts of this folder, the BullMQ way: one command a file, named
// `<command>-<numberOfKeys>.lua`, shared pieces pulled from includes/ by `--- @include "name"` lines.
// Each include is inlined once, in dependency order; a cycle is an error at load time.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ChainableCommander, Cluster, Redis } from 'ioredis';

const here = dirname(fileURLToPath(import.meta.url));
const includeLine = /^--- @include "([\w-]+)"\s*$/gm;

export interface Script {
  name: string;
  numberOfKeys: number;
  lua: string;
}

function inline(source: string, done: Set<string>, stack: string[]): string {
  return source.replace(includeLine, (_line, name: string) => {
    if (stack.includes(name)) throw new Error(`Lua include cycle: ${[...stack, name].join(' -> ')}`);
    if (done.has(name)) return '';
    const body = readFileSync(join(here, 'includes', `${name}.lua`), 'utf8');
    const expanded = inline(body, done, [...stack, name]);
    done.add(name);
    return `-- include ${name}\n${expanded}`;
  });
}

export function loadScripts(dir = here): Script[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.lua'))
    .map((file) => {
      const m = /^(.+)-(\d+)\.lua$/.exec(file);
      if (!m) throw new Error(`Lua script ${file} must be named <command>-<numberOfKeys>.lua`);
      const lua = inline(readFileSync(join(dir, file), 'utf8'), new Set(), []);
      return { name: m[1]!, numberOfKeys: Number(m[2]), lua };
    });
}

let cached: Script[] | undefined;
let keyCounts: Map<string, number> | undefined;

/**
 * Registers the scripts on the connection (EVALSHA, with EVAL once on NOSCRIPT): every one, or only those
 * named. ioredis copies each registered script onto every pipeline it creates, so a connection that needs
 * one script (ingest's tx.claim) registers just that one.
 */
export function defineScripts(redis: Redis | Cluster, only?: readonly string[]): void {
  cached ??= loadScripts();
  for (const s of cached) {
    if (!only || only.includes(s.name)) redis.defineCommand(s.name, { numberOfKeys: s.numberOfKeys, lua: s.lua });
  }
}

export type ScriptReply = [code: string, fresh: 0 | 1, ...values: number[]];

type Target = Redis | Cluster | ChainableCommander;

/**
 * Queues (on a pipeline) or runs (on a connection) a script by its command name. The key count must be the
 * one in the script's file name: one key too few or too many would silently shift every ARGV.
 */
export function callScript(target: Target, name: string, keys: string[], args: (string | number)[]) {
  keyCounts ??= new Map((cached ??= loadScripts()).map((s) => [s.name, s.numberOfKeys]));
  const expected = keyCounts.get(name);
  if (expected !== keys.length) {
    throw new Error(
      expected === undefined
        ? `no Lua script ${name} in lua/`
        : `Lua script ${name} takes ${expected} keys, given ${keys.length}`,
    );
  }
  const fn = (target as unknown as Record<string, (...a: unknown[]) => unknown>)[name];
  if (typeof fn !== 'function') throw new Error(`Lua script ${name} is not defined on this connection`);
  return fn.call(target, ...keys, ...args);
}
