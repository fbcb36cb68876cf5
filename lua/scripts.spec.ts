// The script loader without Redis: names, key counts, includes inlined once, and the key-count guard.
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { callScript, loadScripts } from './scripts.ts';

describe('lua/ scripts', () => {
  const scripts = loadScripts();

  it('every file is <command>-<keys>.lua with its includes inlined once', () => {
    expect(scripts.length).toBeGreaterThan(10);
    for (const s of scripts) {
      expect(s.lua).not.toMatch(/--- @include/);
      for (const name of s.lua.matchAll(/^-- include (\S+)$/gm)) {
        expect(s.lua.split(`-- include ${name[1]}\n`).length, `${s.name} includes ${name[1]} once`).toBe(2);
      }
    }
  });

  it('includes take their keys as arguments (only tx.lua, the prologue every script shares, reads KEYS[1])', () => {
    const dir = new URL('includes/', import.meta.url);
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.lua') && f !== 'tx.lua')) {
      const code = readFileSync(new URL(file, dir), 'utf8').replace(/--\[\[[\s\S]*?\]\]|--.*$/gm, '');
      expect(code, file).not.toMatch(/KEYS\[/);
    }
  });

  it("callScript refuses a key count other than the file name's", () => {
    const calls: unknown[][] = [];
    const target = { 'wallet.credit': (...a: unknown[]) => calls.push(a) } as never;
    expect(() => callScript(target, 'wallet.credit', ['flag', 'acct'], ['d', 1, 2, '7 T1 wallet.credit', 5])).toThrow(
      /takes 3 keys, given 2/,
    );
    expect(() => callScript(target, 'wallet.nope', ['a', 'b'], [])).toThrow(/no Lua script wallet.nope/);
    callScript(target, 'wallet.credit', ['flag', 'acct', 'entries'], ['d', 1, 2, '7 T1 wallet.credit', 5]);
    expect(calls).toEqual([['flag', 'acct', 'entries', 'd', 1, 2, '7 T1 wallet.credit', 5]]);
  });
});
