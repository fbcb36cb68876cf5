--[[
  wallet.hold: reserve an amount of an open account for ttl ms (available drops, balance does not).
  The hold's id is the transaction's; it ends captured, voided or expired (includes/hold.lua).
    KEYS[1] flag key (see includes/tx.lua)    KEYS[2] account hash wallet:{<account>}
    KEYS[3] hold hash wallet:{<account>}:hold:<id>
    ARGV[1..4] digest, retention ms, now, entry      ARGV[5] amount (1..2^53-1)    ARGV[6] ttl ms
    KEYS[4] history wallet:{<entity>}:entries (includes/tx.lua txRecord)
  Returns { code, fresh, balance, available }
    ok | account_not_found | account_closed | insufficient_funds | conflict
]]
--- @include "wallet"

local seen = txSeen()
if seen then return seen end

local acct, err = openAccount(KEYS[2])
if err then return accountDone(err, acct) end
local amount = tonumber(ARGV[5])
if available(acct) < amount then return accountDone('insufficient_funds', acct) end
acct.held = acct.held + amount
saveAccount(KEYS[2], acct)
holdOpen(KEYS[3], ARGV[6], { 'amount', ARGV[5] })
return accountDone('ok', acct)
