--[[
  stock.release: a pending reservation's units return to available.
    KEYS[1] flag key (see includes/tx.lua)    KEYS[2] sku hash stock:{<sku>}
    KEYS[3] reservation hash stock:{<sku>}:hold:<reservation>    KEYS[4] customers hash
    ARGV[1..4] digest, retention ms, now, entry
    KEYS[5] history stock:{<entity>}:entries (includes/tx.lua txRecord)
  Returns { code, fresh, available, reserved, sold }
    ok | sku_not_found | reservation_not_found | reservation_confirmed | reservation_released
    | reservation_expired | conflict
]]
--- @include "stock"

local seen = txSeen()
if seen then return seen end

return holdRelease(stockReservations(KEYS[2], KEYS[4]), holdPending, KEYS[3], 'released')
