import { describe, expect, it } from 'vitest';
import { ijsonIssues } from './ijson.ts';

const issues = (text: string, itemDepth = 0, max = 1) => {
  JSON.parse(text); // the scanner only ever sees text JSON.parse accepted
  return ijsonIssues(text, itemDepth, max);
};

describe('ijsonIssues', () => {
  it('integers, strings, literals, nesting: nothing to say', () => {
    expect(issues('{"type":"wallet.debit","account":"a","amount":5,"x":[0,-1,true,false,null,{"y":"1.5e3"}]}')).toEqual(
      [],
    );
    expect(issues('  {"a" : -0 , "b":9007199254740993}  ')).toEqual([]);
    expect(issues('"1.5"')).toEqual([]);
    expect(issues('[]')).toEqual([]);
  });

  it.each(['1.0', '1e3', '1E3', '1.0000000000000001', '-2.5', '1e-3', '1e+3', '1e400'])(
    '%s is not an integer, at its field',
    (n) => {
      expect(issues(`{"type":"wallet.debit","amount":${n}}`)).toEqual([{ code: 'not_an_integer', path: ['amount'] }]);
    },
  );

  it('paths through arrays and objects', () => {
    expect(issues('{"a":[1,2,{"b":[0,0,3.5]}]}')).toEqual([{ code: 'not_an_integer', path: ['a', 2, 'b', 2] }]);
    expect(issues('1.5')).toEqual([{ code: 'not_an_integer', path: [] }]);
  });

  it('a repeated key, also spelled with escapes, in any object', () => {
    expect(issues('{"amount":1,"amount":7}')).toEqual([{ code: 'duplicate_key', path: ['amount'] }]);
    expect(issues('{"amount":1,"\\u0061mount":7}')).toEqual([{ code: 'duplicate_key', path: ['amount'] }]);
    expect(issues('{"a":{"b":1,"c":2,"b":3}}')).toEqual([{ code: 'duplicate_key', path: ['a', 'b'] }]);
    // The same key in sibling objects is no repeat.
    expect(issues('[{"a":1},{"a":1}]')).toEqual([]);
    expect(issues('{"a":{"a":{"a":1}}}')).toEqual([]);
  });

  it('strings with escaped quotes and backslashes do not end early', () => {
    expect(issues('{"a":"x\\"1.5","b":"\\\\","c":2.5}')).toEqual([{ code: 'not_an_integer', path: ['c'] }]);
    expect(issues('{"k\\\\":1,"k\\\\":2}')).toEqual([{ code: 'duplicate_key', path: ['k\\'] }]);
  });

  it('batches: at most one issue per item, every item scanned; above the items the scan stops', () => {
    const batch = '{"transactions":[{"amount":1.5,"ttl":2.5},{"amount":1},{"amount":1,"amount":2},{"q":1e3}]}';
    expect(issues(batch, 2, 1001)).toEqual([
      { code: 'not_an_integer', path: ['transactions', 0, 'amount'] },
      { code: 'duplicate_key', path: ['transactions', 2, 'amount'] },
      { code: 'not_an_integer', path: ['transactions', 3, 'q'] },
    ]);
    expect(issues('{"transactions":[],"transactions":[{"a":1.5}]}', 2, 1001)).toEqual([
      { code: 'duplicate_key', path: ['transactions'] },
    ]);
    expect(issues('{"transactions":[{"a":1.5},{"a":1.5},{"a":1.5}]}', 2, 2)).toHaveLength(2);
  });
});
