--[[
  wallet.credit: add an amount to an open account.
    KEYS[1] flag key (see includes/tx.lua)    KEYS[2] account hash wallet:{<account>}
    ARGV[1..3] digest, retention ms, now      ARGV[4] amount (1..2^53-1)
  Returns { code, fresh, balance, available }
    ok | account_not_found | account_closed | amount_overflow | conflict
]]
--- @include "wallet"

local seen = txSeen()
if seen then return seen end

local acct, err = openAccount(KEYS[2])
if not acct then return txDone(err) end
local balance = acct.balance + tonumber(ARGV[4])
if not inRange(balance) or not inRange(balance + acct.overdraft) then return txDone('amount_overflow') end
redis.call('HSET', KEYS[2], 'balance', intString(balance))
acct.balance = balance
return txDone('ok', balance, available(acct))
