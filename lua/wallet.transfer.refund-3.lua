--[[
  wallet.transfer.refund, step 'refund' (on the source's partition): the credit could not apply, the
  amount goes back from outgoing into the balance. The transfer's last step when it fails.
    KEYS[1] flag key (see includes/tx.lua; step 'refund')   KEYS[2] source account hash wallet:{<from>}
    ARGV[1..4] digest, retention ms, now, entry                     ARGV[5] amount
    KEYS[3] history wallet:{<entity>}:entries (includes/tx.lua txRecord)
  Returns { code, fresh, balance, available } of the source
    ok | account_not_found | conflict
  Cannot overflow: balance + outgoing stays within 2^53-1 (includes/wallet.lua).
]]
--- @include "wallet"

local seen = txSeen()
if seen then return seen end

return endTransfer(KEYS[2], tonumber(ARGV[5]), true)
