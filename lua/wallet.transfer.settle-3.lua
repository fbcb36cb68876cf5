--[[
  wallet.transfer.settle, step 'settle' (on the source's partition): the credit applied, the amount is no
  longer in flight. The transfer's last step when it succeeds.
    KEYS[1] flag key (see includes/tx.lua; step 'settle')   KEYS[2] source account hash wallet:{<from>}
    ARGV[1..4] digest, retention ms, now, entry                     ARGV[5] amount
    KEYS[3] history wallet:{<entity>}:entries (includes/tx.lua txRecord)
  Returns { code, fresh, balance, available } of the source
    ok | account_not_found | conflict
  The source cannot be closed meanwhile: wallet.close refuses while outgoing > 0.
]]
--- @include "wallet"

local seen = txSeen()
if seen then return seen end

return endTransfer(KEYS[2], tonumber(ARGV[5]), false)
