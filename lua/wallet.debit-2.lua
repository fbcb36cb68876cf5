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

return debitAccount(KEYS[2], tonumber(ARGV[4]), false)
