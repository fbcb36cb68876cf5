// Every message type's command runs a script that exists (a missing one would dead-letter every message).
import { expect, it } from 'vitest';
import { messageTypes, type Message, type MessageTypeName } from '../../common/messages/index.ts';
import { loadScripts } from '../../lua/scripts.ts';
import { commandOf } from './index.ts';

it("every message type's command names a script in lua/", () => {
  const scripts = new Set(loadScripts().map((s) => s.name));
  const missing = (Object.keys(messageTypes) as MessageTypeName[])
    .map((type) => commandOf({ type } as Message).script)
    .filter((script) => !scripts.has(script));
  expect(missing).toEqual([]);
});
