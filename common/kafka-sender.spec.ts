import { expect, it } from 'vitest';
import { groupByTopic } from './kafka-sender.ts';

it("groupByTopic keeps each topic's records in their order, topics in order of first appearance", () => {
  const r = (value: string) => ({ value });
  const items = [
    { topic: 'b', record: r('b1') },
    { topic: 'a', record: r('a1') },
    { topic: 'b', record: r('b2') },
    { topic: 'a', record: r('a2') },
  ];
  expect(groupByTopic(items)).toEqual([
    { topic: 'b', messages: [r('b1'), r('b2')] },
    { topic: 'a', messages: [r('a1'), r('a2')] },
  ]);
  expect(groupByTopic([])).toEqual([]);
});
