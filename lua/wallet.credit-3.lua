--[[
  wallet.credit: add an amount to an open account. Also the credit step of a transfer
  (wallet.transfer.credit, flag step 'credit' on the target).
    KEYS[1] flag key (see includes/tx.lua)    KEYS[2] account hash wallet:{<account>}
    ARGV[1..4] digest, retention ms, now, entry      ARGV[5] amount (1..2^53-1)
    KEYS[3] history wallet:{<entity>}:entries (includes/tx.lua txRecord)
  Returns { code, fresh, balance, available }
    ok | account_not_found | account_closed | amount_overflow | conflict
]]
--- @include "wallet"

local seen = txSeen()
if seen then return seen end

local acct, err = openAccount(KEYS[2])
if err then return accountDone(err, acct) end
local amount = tonumber(ARGV[5])
if not inRange(acct.balance + amount + acct.outgoing + acct.overdraft) then return accountDone('amount_overflow', acct) end
acct.balance = acct.balance + amount
saveAccount(KEYS[2], acct)
return accountDone('ok', acct)
