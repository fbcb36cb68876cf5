--[[
  An event's seat map, one hash per event: seats:{<event>} = { <seat> = 'free' | 'held <hold>' | 'sold <hold>' }.
  One field per seat, so a seat has at most one holder or buyer by construction.
  A seat hold is the two-phase hold (includes/hold.lua): seats:{<event>}:hold:<id> =
  { state, expiresAt, holder, seats = 'A1 A2 ...' }; confirmed = posted, released = voided.
  The functions here take their keys as arguments; the scripts pass them from their KEYS.
]]
--- @include "hold"

-- HSET/HDEL in slices: unpack() of thousands of values would overflow the Lua stack.
local function eachSlice(list, fn)
  for i = 1, #list, 500 do fn({ unpack(list, i, math.min(i + 499, #list)) }) end
end

-- Sets every seat of the list to `value` in the seat map at mapKey.
local function setSeats(mapKey, seats, value)
  eachSlice(seats, function(slice)
    local args = {}
    for _, seat in ipairs(slice) do args[#args + 1] = seat; args[#args + 1] = value end
    redis.call('HSET', mapKey, unpack(args))
  end)
end

-- The seats a release or expire freed: the history's entry of the change (also when a confirm found the
-- hold past its ttl and expired it on its way to a rejection).
local seatsFreed = nil

local function holdSeats(h)
  local seats = {}
  for seat in string.gmatch(h.seats, '%S+') do seats[#seats + 1] = seat end
  return seats
end

-- Confirm, release and expire (includes/hold.lua holdCommand) on the seat map at mapKey. The seat map is
-- the entity; a missing event has no holds, so its commands answer hold_not_found.
local function seatHolds(mapKey)
  return {
    noun = 'hold',
    load = function() return {} end,
    release = function(_, h)
      setSeats(mapKey, holdSeats(h), 'free')
      seatsFreed = holdSeats(h)
    end,
    -- A release or expire answers how many seats it freed (0 when refused); the history records them.
    done = function(code, _, h)
      if seatsFreed then txRecord('free', unpack(seatsFreed)) end
      if code == 'ok' and h then return txDone(code, #holdSeats(h)) end
      return txDone(code, 0)
    end,
  }
end
