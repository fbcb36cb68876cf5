--[[
  wallet.debit: take an amount from an open account, never below -overdraft (counting held funds).
    KEYS[1] flag key (see includes/tx.lua)    KEYS[2] account hash wallet:{<account>}
    ARGV[1..4] digest, retention ms, now, entry      ARGV[5] amount (1..2^53-1)
    KEYS[3] history wallet:{<entity>}:entries (includes/tx.lua txRecord)
  Returns { code, fresh, balance, available }
    ok | account_not_found | account_closed | insufficient_funds | conflict
]]
--- @include "wallet"

local seen = txSeen()
if seen then return seen end

return debitAccount(KEYS[2], tonumber(ARGV[5]), false)
