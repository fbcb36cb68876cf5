--[[
  seats.hold: hold every listed seat for a holder for ttl ms, or none of them.
  The hold's id is the transaction's; it ends confirmed, released or expired (includes/hold.lua).
    KEYS[1] flag key (see includes/tx.lua)    KEYS[2] seat map seats:{<event>}
    KEYS[3] hold hash seats:{<event>}:hold:<id>
    ARGV[1..4] digest, retention ms, now, entry      ARGV[5] hold id    ARGV[6] holder    ARGV[7] ttl ms
    ARGV[8..] seat ids (1..maxSeatsPerHold, distinct, checked by ingest)
    KEYS[4] history seats:{<entity>}:entries (includes/tx.lua txRecord)
  Returns { code, fresh, seats }  (seats: how many were held)
    ok | event_not_found | seat_not_found | seat_unavailable | conflict
]]
--- @include "seats"

local seen = txSeen()
if seen then return seen end

if redis.call('EXISTS', KEYS[2]) == 0 then return txDone('event_not_found', 0) end
local seats = { unpack(ARGV, 8) }
local states = redis.call('HMGET', KEYS[2], unpack(seats))
for i = 1, #seats do
  if not states[i] then return txDone('seat_not_found', 0) end
end
for i = 1, #seats do
  if states[i] ~= 'free' then return txDone('seat_unavailable', 0) end
end
setSeats(KEYS[2], seats, 'held ' .. ARGV[5])
holdOpen(KEYS[3], ARGV[7], { 'holder', ARGV[6], 'seats', table.concat(seats, ' ') })
txRecord('held', unpack(seats))
return txDone('ok', #seats)
