--[[
  stock.expire (internal, from the sweeper): a reservation whose ttl has passed by the message's time
  returns its units to available.
    KEYS[1] flag key (see includes/tx.lua; the reservation's id, step 'expire')
    KEYS[2] sku hash stock:{<sku>}    KEYS[3] reservation hash stock:{<sku>}:hold:<id>
    KEYS[4] customers hash stock:{<sku>}:customers
    ARGV[1..4] digest, retention ms, now, entry
    KEYS[5] history stock:{<entity>}:entries (includes/tx.lua txRecord)
  Returns { code, fresh, available, reserved, sold }
    ok | not_due (no flag written) | sku_not_found | reservation_not_found | reservation_confirmed
    | reservation_released | reservation_expired | conflict
]]
--- @include "stock"

local seen = txSeen()
if seen then return seen end

return holdRelease(stockReservations(KEYS[2], KEYS[4]), holdDue, KEYS[3], 'expired')
