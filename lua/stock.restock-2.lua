--[[
  stock.restock: add units to a sku's stock (and to available).
    KEYS[1] flag key (see includes/tx.lua)    KEYS[2] sku hash stock:{<sku>}
    ARGV[1..3] digest, retention ms, now      ARGV[4] quantity (1..2^53-1)
  Returns { code, fresh, available, reserved, sold }
    ok | sku_not_found | amount_overflow | conflict
]]
--- @include "stock"

local seen = txSeen()
if seen then return seen end

local s, err = loadStock(KEYS[2])
if not s then return txDone(err) end
local quantity = tonumber(ARGV[4])
if not inRange(s.available + s.reserved + s.sold + quantity) then return stockDone('amount_overflow', s) end
s.available = s.available + quantity
saveStock(KEYS[2], s)
return stockDone('ok', s)
