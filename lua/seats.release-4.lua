--[[
  seats.release: free the seats of a pending hold.
    KEYS[1] flag key (see includes/tx.lua)    KEYS[2] seat map seats:{<event>}
    KEYS[3] hold hash seats:{<event>}:hold:<hold>
    ARGV[1..4] digest, retention ms, now, entry      ARGV[5] hold id
    KEYS[4] history seats:{<entity>}:entries (includes/tx.lua txRecord)
  Returns { code, fresh, seats }  (seats: how many were freed)
    ok | hold_not_found | hold_confirmed | hold_released | hold_expired | conflict
]]
--- @include "seats"

local seen = txSeen()
if seen then return seen end

return holdRelease(seatHolds(KEYS[2]), holdPending, KEYS[3], 'released')
