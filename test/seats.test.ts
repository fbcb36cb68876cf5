// Seat booking: a seat has at most one holder or buyer; a hold gets all its seats or none.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPipeline, uid, waitFor, type Pipeline } from './harness.ts';
import { apply, applyAll, type Outcome } from './domains.ts';

let p: Pipeline;
beforeAll(async () => {
  p = await startPipeline({ env: { TXPIPE_SWEEP_INTERVAL_MS: '200' } });
});
afterAll(async () => {
  await p?.stop();
});

interface SeatMap {
  free: number;
  held: number;
  sold: number;
  seats: Array<{ seat: string; state: string; hold?: string }>;
}
const seatMap = async (event: string): Promise<SeatMap> => (await p.get(`/v1/events/${event}/seats`)).body;
const seatIds = (n: number) => Array.from({ length: n }, (_, i) => `A${i + 1}`);

async function defineEvent(n: number) {
  const event = uid('event');
  expect(await apply(p, { type: 'seats.define', event, seats: seatIds(n) })).toMatchObject({
    code: 'ok',
    result: { seats: n },
  });
  return event;
}

/** A small deterministic generator, so a failure can be replayed from its seed. */
function random(seed: number) {
  return () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
}

describe('seats', () => {
  it('500 holders racing for seat A1: exactly one hold succeeds', async () => {
    const event = await defineEvent(10);
    const outcomes = await applyAll(
      p,
      Array.from({ length: 500 }, () => ({ type: 'seats.hold', event, seats: ['A1'], holder: uid('h'), ttl: 60_000 })),
    );
    const won = outcomes.filter((o) => o.code === 'ok');
    expect(won).toHaveLength(1);
    expect(outcomes.filter((o) => o.code === 'seat_unavailable')).toHaveLength(499);
    const map = await seatMap(event);
    expect(map.seats.find((s) => s.seat === 'A1')).toEqual({ seat: 'A1', state: 'held', hold: won[0]!.id });
    expect(map).toMatchObject({ free: 9, held: 1, sold: 0 });
  });

  it('200 holders asking for overlapping sets of 2–4 seats of 50: no seat held twice, every hold got all its seats', async () => {
    const SEED = 20261124;
    const next = random(SEED);
    const event = await defineEvent(50);
    // Sets drawn from a window of 8 neighbouring seats, so they overlap a lot.
    const wanted = Array.from({ length: 200 }, () => {
      const size = 2 + Math.floor(next() * 3);
      const start = Math.floor(next() * 43);
      const set = new Set<string>();
      while (set.size < size) set.add(`A${start + 1 + Math.floor(next() * 8)}`);
      return [...set];
    });
    const outcomes = await applyAll(
      p,
      wanted.map((seats) => ({ type: 'seats.hold', event, seats, holder: uid('h'), ttl: 60_000 })),
    );
    expect(new Set(outcomes.map((o) => o.code)), `seed ${SEED}`).toEqual(new Set(['ok', 'seat_unavailable']));
    const won = outcomes.map((o, i) => [o, wanted[i]!] as const).filter(([o]) => o.code === 'ok');
    expect(won.length).toBeGreaterThan(5);

    // Every successful hold's seats, pairwise disjoint.
    const owner = new Map<string, string>();
    for (const [o, seats] of won) {
      expect(o.result.seats).toBe(seats.length);
      for (const seat of seats) {
        expect(owner.get(seat), `seat ${seat} held twice (seed ${SEED})`).toBeUndefined();
        owner.set(seat, o.id);
      }
    }
    // The seat map is exactly that: each held seat by the hold that won it, every other seat free.
    const map = await seatMap(event);
    expect(map.seats).toHaveLength(50);
    for (const s of map.seats) {
      const o = owner.get(s.seat);
      expect(s, `seed ${SEED}`).toEqual(o ? { seat: s.seat, state: 'held', hold: o } : { seat: s.seat, state: 'free' });
    }
    expect(map).toMatchObject({ held: owner.size, free: 50 - owner.size, sold: 0 });
    // A refused hold took nothing: its seats it did not get are free or another hold's.
    const lost = outcomes.filter((o) => o.code !== 'ok').map((o) => o.id);
    expect(map.seats.filter((s) => s.hold && lost.includes(s.hold))).toEqual([]);
  });

  it('confirm sells, release and expiry free; each hold resolves once; a redefinition keeps held and sold seats', async () => {
    const event = await defineEvent(6);
    const hold = (seats: string[], ttl = 60_000) =>
      apply(p, { type: 'seats.hold', event, seats, holder: uid('h'), ttl });
    const [h1, h2, h3] = [await hold(['A1', 'A2']), await hold(['A3']), await hold(['A4', 'A5'], 1000)];
    expect([h1.code, h2.code, h3.code]).toEqual(['ok', 'ok', 'ok']);
    expect((await hold(['A5', 'A6'])).code).toBe('seat_unavailable');
    expect((await seatMap(event)).seats.find((s) => s.seat === 'A6')).toMatchObject({ state: 'free' });

    const act = (type: string, o: Outcome) => apply(p, { type, event, hold: o.id });
    expect(await act('seats.confirm', h1)).toMatchObject({ code: 'ok', result: { seats: 2 } });
    expect(await act('seats.release', h2)).toMatchObject({ code: 'ok', result: { seats: 1 } });
    expect((await act('seats.confirm', h1)).code).toBe('hold_confirmed');
    expect((await act('seats.release', h1)).code).toBe('hold_confirmed');
    expect((await act('seats.confirm', h2)).code).toBe('hold_released');
    await waitFor('h3 to expire', async () => (await seatMap(event)).held === 0, 15_000);
    expect((await act('seats.confirm', h3)).code).toBe('hold_expired');
    expect(await seatMap(event)).toMatchObject({ free: 4, held: 0, sold: 2 });

    // A4 is held again; A1 is sold: a map without either is refused, a map without a free seat is fine.
    expect((await hold(['A4'])).code).toBe('ok');
    expect((await apply(p, { type: 'seats.define', event, seats: ['A1', 'A2', 'A3', 'A5', 'A6'] })).code).toBe(
      'seat_in_use',
    );
    expect((await apply(p, { type: 'seats.define', event, seats: ['A2', 'A3', 'A4', 'A5', 'A6'] })).code).toBe(
      'seat_in_use',
    );
    expect(await apply(p, { type: 'seats.define', event, seats: ['A1', 'A2', 'A4', 'A5', 'B1'] })).toMatchObject({
      code: 'ok',
      result: { seats: 5 },
    });
    const map = await seatMap(event);
    expect(map.seats.map((s) => `${s.seat}:${s.state}`)).toEqual([
      'A1:sold',
      'A2:sold',
      'A4:held',
      'A5:free',
      'B1:free',
    ]);
    expect(
      (await apply(p, { type: 'seats.hold', event: uid('no-event'), seats: ['A1'], holder: 'x', ttl: 60_000 })).code,
    ).toBe('event_not_found');
  });
});
