--[[
  wallet.credit: add an amount to an open account. Also the credit step of a transfer
  (wallet.transfer.credit, flag step 'credit' on the target).
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
acct.balance = acct.balance + tonumber(ARGV[4])
if not inRange(acct.balance + acct.outgoing + acct.overdraft) then return txDone('amount_overflow') end
saveAccount(KEYS[2], acct)
return accountDone('ok', acct)
