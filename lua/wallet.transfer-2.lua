--[[
  wallet.transfer, step 'debit' (on the source's partition): take the amount from `from` and keep it
  visible there as outgoing until the credit step confirms it (settle) or fails (refund).
    KEYS[1] flag key (see includes/tx.lua; step 'debit')    KEYS[2] source account hash wallet:{<from>}
    ARGV[1..3] digest, retention ms, now                      ARGV[4] amount (1..2^53-1)
  Returns { code, fresh, balance, available } of the source
    ok | account_not_found | account_closed | insufficient_funds | conflict
]]
--- @include "wallet"

local seen = txSeen()
if seen then return seen end

return debitAccount(KEYS[2], tonumber(ARGV[4]), true)
