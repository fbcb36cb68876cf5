--[[
  Account state, one hash per account: wallet:{<account>} = { balance, held, overdraft, status }.
  available = balance + overdraft - held: what a debit, a hold or a transfer may still take.
]]
--- @include "tx"

-- The account's numbers, or nil and a rejection code when it cannot be used.
local function openAccount(key)
  local a = redis.call('HMGET', key, 'balance', 'held', 'overdraft', 'status')
  if not a[1] then return nil, 'account_not_found' end
  if a[4] ~= 'open' then return nil, 'account_closed' end
  return { balance = tonumber(a[1]), held = tonumber(a[2]), overdraft = tonumber(a[3]) }
end

local function available(acct)
  return acct.balance + acct.overdraft - acct.held
end
