--[[
  seats.confirm: sell the seats of a pending hold.
    KEYS[1] flag key (see includes/tx.lua)    KEYS[2] seat map seats:{<event>}
    KEYS[3] hold hash seats:{<event>}:hold:<hold>
    ARGV[1..4] digest, retention ms, now, entry      ARGV[5] hold id
    KEYS[4] history seats:{<entity>}:entries (includes/tx.lua txRecord)
  Returns { code, fresh, seats }  (seats: how many were sold)
    ok | hold_not_found | hold_confirmed | hold_released | hold_expired | conflict
  A hold past its ttl (by the message's time) is expired here and the confirm rejected hold_expired.
]]
--- @include "seats"

local seen = txSeen()
if seen then return seen end

local _, h, reply = holdCommand(seatHolds(KEYS[2]), holdPending, KEYS[3])
if reply then return reply end
local seats = holdSeats(h)
setSeats(KEYS[2], seats, 'sold ' .. ARGV[5])
txRecord('sold', unpack(seats))
holdResolve(KEYS[3], 'confirmed')
return txDone('ok', #seats)
