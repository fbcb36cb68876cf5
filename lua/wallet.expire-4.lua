--[[
  wallet.expire (internal, from the sweeper): release a hold whose ttl has passed by the message's time.
    KEYS[1] flag key (see includes/tx.lua; the hold's id, step 'expire')
    KEYS[2] account hash wallet:{<account>}   KEYS[3] hold hash wallet:{<account>}:hold:<id>
    ARGV[1..4] digest, retention ms, now, entry
    KEYS[4] history wallet:{<entity>}:entries (includes/tx.lua txRecord)
  Returns { code, fresh, balance, available }
    ok | not_due (no flag written) | account_not_found | hold_not_found | hold_captured | hold_voided
    | hold_expired | conflict
]]
--- @include "wallet"

local seen = txSeen()
if seen then return seen end

return holdRelease(walletHolds(KEYS[2]), holdDue, KEYS[3], 'expired')
