--[[
  wallet.open: create an account with balance 0.
    KEYS[1] flag key (see includes/tx.lua)    KEYS[2] account hash wallet:{<account>}
    ARGV[1..4] digest, retention ms, now, entry      ARGV[5] overdraft (how far below 0 the balance may go)
    KEYS[3] history wallet:{<entity>}:entries (includes/tx.lua txRecord)
  Returns { code, fresh, balance, available }
    ok | account_exists | conflict
]]
--- @include "wallet"

local seen = txSeen()
if seen then return seen end

local account = KEYS[2]
if redis.call('EXISTS', account) == 1 then return accountDone('account_exists', loadAccount(account)) end
local overdraft = tonumber(ARGV[5])
redis.call('HSET', account, 'balance', 0, 'held', 0, 'outgoing', 0, 'overdraft', intString(overdraft),
  'status', 'open', 'openedAt', intString(txNow))
return accountDone('ok', { balance = 0, balance0 = 0, held = 0, outgoing = 0, overdraft = overdraft })
