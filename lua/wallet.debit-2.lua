--[[
  wallet.debit: take an amount from an open account, never below -overdraft (counting held funds).
    KEYS[1] flag key (see includes/tx.lua)    KEYS[2] account hash wallet:{<account>}
    ARGV[1..3] digest, retention ms, now      ARGV[4] amount (1..2^53-1)
  Returns { code, fresh, balance, available }
    ok | account_not_found | account_closed | insufficient_funds | conflict
]]
--- @include "wallet"

local seen = txSeen()
if seen then return seen end

local acct, err = openAccount(KEYS[2])
if not acct then return txDone(err) end
local amount = tonumber(ARGV[4])
if available(acct) < amount then return txDone('insufficient_funds') end
acct.balance = acct.balance - amount
redis.call('HSET', KEYS[2], 'balance', intString(acct.balance))
return txDone('ok', acct.balance, available(acct))
