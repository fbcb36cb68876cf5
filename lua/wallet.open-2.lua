--[[
  wallet.open: create an account with balance 0.
    KEYS[1] flag key (see includes/tx.lua)    KEYS[2] account hash wallet:{<account>}
    ARGV[1..3] digest, retention ms, now      ARGV[4] overdraft (how far below 0 the balance may go)
  Returns { code, fresh, balance, available }
    ok | account_exists | conflict
]]
--- @include "wallet"

local seen = txSeen()
if seen then return seen end

local account = KEYS[2]
if redis.call('EXISTS', account) == 1 then return txDone('account_exists') end
local overdraft = tonumber(ARGV[4])
redis.call('HSET', account, 'balance', 0, 'held', 0, 'outgoing', 0, 'overdraft', intString(overdraft),
  'status', 'open', 'openedAt', intString(txNow))
return txDone('ok', 0, overdraft)
