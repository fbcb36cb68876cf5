--[[
  wallet.close: no further debits, credits, holds or transfers into or out of the account.
    KEYS[1] flag key (see includes/tx.lua)    KEYS[2] account hash wallet:{<account>}
    ARGV[1..4] digest, retention ms, now, entry
    KEYS[3] history wallet:{<entity>}:entries (includes/tx.lua txRecord)
  Returns { code, fresh, balance, available }
    ok | account_not_found | account_closed | holds_pending | transfers_pending | balance_not_zero
    | conflict
]]
--- @include "wallet"

local seen = txSeen()
if seen then return seen end

local acct, err = openAccount(KEYS[2])
if err then return accountDone(err, acct) end
if acct.held > 0 then return accountDone('holds_pending', acct) end
if acct.outgoing > 0 then return accountDone('transfers_pending', acct) end
if acct.balance ~= 0 then return accountDone('balance_not_zero', acct) end
redis.call('HSET', KEYS[2], 'status', 'closed', 'closedAt', intString(txNow))
return accountDone('ok', acct)
