--[[
  seats.expire (internal, from the sweeper): free the seats of a hold whose ttl has passed by the
  message's time.
    KEYS[1] flag key (see includes/tx.lua; the hold's id, step 'expire')
    KEYS[2] seat map seats:{<event>}    KEYS[3] hold hash seats:{<event>}:hold:<id>
    ARGV[1..4] digest, retention ms, now, entry      ARGV[5] hold id
    KEYS[4] history seats:{<entity>}:entries (includes/tx.lua txRecord)
  Returns { code, fresh, seats }  (seats: how many were freed)
    ok | not_due (no flag written) | hold_not_found | hold_confirmed | hold_released | hold_expired
    | conflict
]]
--- @include "seats"

local seen = txSeen()
if seen then return seen end

return holdRelease(seatHolds(KEYS[2]), holdDue, KEYS[3], 'expired')
