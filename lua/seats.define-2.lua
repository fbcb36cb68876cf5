--[[
  seats.define: fix an event's seat map. A redefinition adds the new seats as free and drops the seats it
  no longer lists, all or nothing: it is rejected if a dropped seat is held or sold.
    KEYS[1] flag key (see includes/tx.lua)    KEYS[2] seat map seats:{<event>}
    ARGV[1..3] digest, retention ms, now      ARGV[4..] seat ids (distinct, checked by ingest)
  Returns { code, fresh, seats }  (seats: how many the map has)
    ok | seat_in_use | conflict
]]
--- @include "seats"

local seen = txSeen()
if seen then return seen end

local wanted = {}
for i = 4, #ARGV do wanted[ARGV[i]] = true end
local current = redis.call('HGETALL', KEYS[2])
local dropped, present = {}, {}
for i = 1, #current, 2 do
  local seat, state = current[i], current[i + 1]
  present[seat] = true
  if not wanted[seat] then
    if state ~= 'free' then return txDone('seat_in_use') end
    dropped[#dropped + 1] = seat
  end
end
local added = {}
for i = 4, #ARGV do
  if not present[ARGV[i]] then added[#added + 1] = ARGV[i] end
end
eachSlice(dropped, function(slice) redis.call('HDEL', KEYS[2], unpack(slice)) end)
setSeats(KEYS[2], added, 'free')
return txDone('ok', #ARGV - 3)
