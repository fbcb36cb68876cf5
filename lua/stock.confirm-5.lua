--[[
  stock.confirm: a pending reservation becomes a sale (reserved -> sold).
    KEYS[1] flag key (see includes/tx.lua)    KEYS[2] sku hash stock:{<sku>}
    KEYS[3] reservation hash stock:{<sku>}:hold:<reservation>    KEYS[4] customers hash
    ARGV[1..4] digest, retention ms, now, entry
    KEYS[5] history stock:{<entity>}:entries (includes/tx.lua txRecord)
  Returns { code, fresh, available, reserved, sold }
    ok | sku_not_found | reservation_not_found | reservation_confirmed | reservation_released
    | reservation_expired | conflict
  A reservation past its ttl (by the message's time) is expired here and the confirm rejected.
]]
--- @include "stock"

local seen = txSeen()
if seen then return seen end

local s, h, reply = holdCommand(stockReservations(KEYS[2], KEYS[4]), holdPending, KEYS[3])
if reply then return reply end
s.reserved = s.reserved - tonumber(h.quantity)
s.sold = s.sold + tonumber(h.quantity)
saveStock(KEYS[2], s)
holdResolve(KEYS[3], 'confirmed')
return stockDone('ok', s)
