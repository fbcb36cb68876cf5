import { describe, expect, it } from 'vitest';
import { Prng } from './prng.ts';
import { faultKinds, makeSchedule, quietTailMs } from './schedule.ts';

describe('the chaos schedule', () => {
  it('is the same for the same seed, and another for another seed', () => {
    expect(makeSchedule(42, 60_000)).toEqual(makeSchedule(42, 60_000));
    expect(makeSchedule(43, 60_000)).not.toEqual(makeSchedule(42, 60_000));
    // The PRNG itself does not depend on the platform: pinned values.
    const r = new Prng(1);
    expect([r.next(), r.next()].map((x) => x.toFixed(6))).toEqual(['0.627074', '0.002736']);
  });

  it('one fault at a time, all healed before the quiet tail, every kind in a long enough run', () => {
    const duration = 300_000;
    const s = makeSchedule(7, duration);
    for (let i = 1; i < s.length; i++) expect(s[i]!.at).toBeGreaterThan(s[i - 1]!.at + s[i - 1]!.holdMs);
    expect(s.at(-1)!.at + s.at(-1)!.holdMs).toBeLessThanOrEqual(duration - quietTailMs);
    expect(new Set(s.map((f) => f.kind))).toEqual(new Set(Object.keys(faultKinds)));
  });
});
