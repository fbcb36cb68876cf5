--[[
  seats.define: fix an event's seat map. A redefinition adds the new seats as free and drops the seats it
  no longer lists, all or nothing: it is rejected if a dropped seat is held or sold.
    KEYS[1] flag key (see includes/tx.lua)    KEYS[2] seat map seats:{<event>}
    ARGV[1..4] digest, retention ms, now, entry      ARGV[5..] seat ids (distinct, checked by ingest)
    KEYS[3] history seats:{<entity>}:entries (includes/tx.lua txRecord)
  Returns { code, fresh, seats }  (seats: how many the map has)
    ok | seat_in_use | conflict
]]
--- @include "seats"

local seen = txSeen()
if seen then return seen end

local wanted = {}
for i = 5, #ARGV do wanted[ARGV[i]] = true end
local current = redis.call('HGETALL', KEYS[2])
local dropped, present = {}, {}
for i = 1, #current, 2 do
  local seat, state = current[i], current[i + 1]
  present[seat] = true
  if not wanted[seat] then
    if state ~= 'free' then return txDone('seat_in_use', #current / 2) end
    dropped[#dropped + 1] = seat
  end
end
local added = {}
for i = 5, #ARGV do
  if not present[ARGV[i]] then added[#added + 1] = ARGV[i] end
end
eachSlice(dropped, function(slice) redis.call('HDEL', KEYS[2], unpack(slice)) end)
setSeats(KEYS[2], added, 'free')
-- The history records how many seats the map has; the seats themselves are the definition's payload.
txRecord('defined', #ARGV - 4)
return txDone('ok', #ARGV - 4)
