--[[
  wallet.transfer.settle, step 'settle' (on the source's partition): the credit applied, the amount is no
  longer in flight. The transfer's last step when it succeeds.
    KEYS[1] flag key (see includes/tx.lua; step 'settle')   KEYS[2] source account hash wallet:{<from>}
    ARGV[1..3] digest, retention ms, now                     ARGV[4] amount
  Returns { code, fresh, balance, available } of the source
    ok | account_not_found | conflict
  The source cannot be closed meanwhile: wallet.close refuses while outgoing > 0.
]]
--- @include "wallet"

local seen = txSeen()
if seen then return seen end

return endTransfer(KEYS[2], tonumber(ARGV[4]), false)
