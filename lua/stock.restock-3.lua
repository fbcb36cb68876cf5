--[[
  stock.restock: add units to a sku's stock (and to available).
    KEYS[1] flag key (see includes/tx.lua)    KEYS[2] sku hash stock:{<sku>}
    ARGV[1..4] digest, retention ms, now, entry      ARGV[5] quantity (1..2^53-1)
    KEYS[3] history stock:{<entity>}:entries (includes/tx.lua txRecord)
  Returns { code, fresh, available, reserved, sold }
    ok | sku_not_found | amount_overflow | conflict
]]
--- @include "stock"

local seen = txSeen()
if seen then return seen end

local s, err = loadStock(KEYS[2])
if not s then return stockDone(err, nil) end
local quantity = tonumber(ARGV[5])
if not inRange(s.available + s.reserved + s.sold + quantity) then return stockDone('amount_overflow', s) end
s.available = s.available + quantity
saveStock(KEYS[2], s)
return stockDone('ok', s)
