// seats.* message types (booking): an event's fixed seat map, all-or-nothing holds with a ttl.
import { z } from 'zod';
import { limits } from '../limits.ts';
import { Id, TtlMs, TxId } from './fields.ts';

/** A list of distinct seat ids, 1..max long; a repeated seat is refused at its own index. */
const SeatList = (max: number) =>
  z
    .array(Id)
    .min(1, 'must list at least one seat')
    .max(max, `must list at most ${max} seats`)
    .superRefine((seats, ctx) => {
      const seen = new Set<string>();
      seats.forEach((s, i) => {
        if (seen.has(s))
          ctx.addIssue({ code: 'custom', path: [i], message: `repeats seat ${s}`, params: { code: 'duplicate_seat' } });
        seen.add(s);
      });
    });

/** Fixes the event's seat map. A redefinition may add seats, and drop only free ones. */
export const seatsDefine = z.strictObject({
  id: TxId,
  type: z.literal('seats.define'),
  event: Id,
  seats: SeatList(limits.maxSeatsPerEvent),
});

/** Holds every listed seat for `holder` for `ttl` ms, or none of them. Its id is the hold's. */
export const seatsHold = z.strictObject({
  id: TxId,
  type: z.literal('seats.hold'),
  event: Id,
  seats: SeatList(limits.maxSeatsPerHold),
  holder: Id,
  ttl: TtlMs,
});

/** Sells the seats of a pending hold. */
export const seatsConfirm = z.strictObject({
  id: TxId,
  type: z.literal('seats.confirm'),
  event: Id,
  hold: TxId,
});

/** Frees the seats of a pending hold. */
export const seatsRelease = z.strictObject({
  id: TxId,
  type: z.literal('seats.release'),
  event: Id,
  hold: TxId,
});

/** Internal (the sweeper): the hold `id` has passed its ttl. */
export const seatsExpire = z.strictObject({
  id: TxId,
  type: z.literal('seats.expire'),
  event: Id,
});
