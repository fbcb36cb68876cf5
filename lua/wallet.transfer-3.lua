--[[
  wallet.transfer, step 'debit' (on the source's partition): take the amount from `from` and keep it
  visible there as outgoing until the credit step confirms it (settle) or fails (refund).
    KEYS[1] flag key (see includes/tx.lua; step 'debit')    KEYS[2] source account hash wallet:{<from>}
    ARGV[1..4] digest, retention ms, now, entry                      ARGV[5] amount (1..2^53-1)
    KEYS[3] history wallet:{<entity>}:entries (includes/tx.lua txRecord)
  Returns { code, fresh, balance, available } of the source
    ok | account_not_found | account_closed | insufficient_funds | conflict
]]
--- @include "wallet"

local seen = txSeen()
if seen then return seen end

return debitAccount(KEYS[2], tonumber(ARGV[5]), true)
