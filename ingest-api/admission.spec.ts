import { describe, expect, it } from 'vitest';
import { Admission } from './admission.ts';

const options = { targetDelayMs: 10, intervalMs: 100, maxShare: 0.9, step: 0.1 };

describe('admission by event-loop delay', () => {
  it('admits everything while the loop is on time', () => {
    const a = new Admission({ ...options, random: () => 0 });
    for (let i = 0; i < 10; i++) a.observe(3);
    expect(a.share).toBe(0);
    expect(a.admit()).toBe(true);
  });

  it('refuses a growing share while the loop stays late, never all of it', () => {
    const a = new Admission(options);
    a.observe(50);
    expect(a.share).toBeCloseTo(0.1);
    for (let i = 0; i < 20; i++) a.observe(50);
    expect(a.share).toBeCloseTo(0.9);
  });

  it('refuses about the share it holds', () => {
    let seed = 1;
    const random = () => ((seed = (seed * 16807) % 2147483647) - 1) / 2147483646;
    const a = new Admission({ ...options, random });
    for (let i = 0; i < 4; i++) a.observe(50);
    const refused = Array.from({ length: 10_000 }, () => a.admit()).filter((x) => !x).length;
    expect(refused / 10_000).toBeGreaterThan(0.37);
    expect(refused / 10_000).toBeLessThan(0.43);
  });

  it('holds the share between half the target and the target, and lets it fall below half', () => {
    const a = new Admission(options);
    for (let i = 0; i < 3; i++) a.observe(50);
    a.observe(7);
    expect(a.share).toBeCloseTo(0.3);
    a.observe(2);
    expect(a.share).toBeCloseTo(0.25);
    for (let i = 0; i < 10; i++) a.observe(2);
    expect(a.share).toBe(0);
  });

  it('measures the real event loop: a blocked loop raises the share, and stop() clears it', async () => {
    const a = new Admission({ ...options, intervalMs: 50 });
    const shares: number[] = [];
    const stop = a.start((share) => shares.push(share));
    const blockedUntil = Date.now() + 120;
    while (Date.now() < blockedUntil) {
      // Busy: the loop cannot run its timers.
    }
    await new Promise((r) => setTimeout(r, 60));
    expect(shares[0]).toBeCloseTo(0.1);
    stop();
    expect(a.share).toBe(0);
  });
});
