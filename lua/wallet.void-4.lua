--[[
  wallet.void: release a pending hold; nothing is debited.
    KEYS[1] flag key (see includes/tx.lua)    KEYS[2] account hash wallet:{<account>}
    KEYS[3] hold hash wallet:{<account>}:hold:<hold>
    ARGV[1..4] digest, retention ms, now, entry
    KEYS[4] history wallet:{<entity>}:entries (includes/tx.lua txRecord)
  Returns { code, fresh, balance, available }
    ok | account_not_found | hold_not_found | hold_captured | hold_voided | hold_expired | conflict
]]
--- @include "wallet"

local seen = txSeen()
if seen then return seen end

return holdRelease(walletHolds(KEYS[2]), holdPending, KEYS[3], 'voided')
