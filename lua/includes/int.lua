--[[
  Integer arithmetic within 2^53-1: Lua numbers are doubles, exact up to that bound. Every sum is checked
  against it before it is written; a result out of range is rejected, never wrapped.
]]
local MAX_INT = 9007199254740991

-- tostring() would print 1e+15; this keeps every digit.
local function intString(n)
  return string.format('%.0f', n)
end

local function inRange(n)
  return n >= -MAX_INT and n <= MAX_INT
end

local function hashInt(key, field)
  return tonumber(redis.call('HGET', key, field) or '0')
end
