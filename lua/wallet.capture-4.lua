--[[
  wallet.capture: post a pending hold: debit `amount` (the whole hold when 0) and release the rest.
    KEYS[1] flag key (see includes/tx.lua)    KEYS[2] account hash wallet:{<account>}
    KEYS[3] hold hash wallet:{<account>}:hold:<hold>
    ARGV[1..4] digest, retention ms, now, entry      ARGV[5] amount (0 = the held amount)
    KEYS[4] history wallet:{<entity>}:entries (includes/tx.lua txRecord)
  Returns { code, fresh, balance, available, captured }
    ok | account_not_found | hold_not_found | hold_captured | hold_voided | hold_expired
    | amount_exceeds_hold | conflict
  A hold past its ttl (by the message's time) is expired here and the capture rejected hold_expired.
]]
--- @include "wallet"

local seen = txSeen()
if seen then return seen end

local acct, h, reply = holdCommand(walletHolds(KEYS[2], true), holdPending, KEYS[3])
if reply then return reply end
local held = tonumber(h.amount)
local amount = tonumber(ARGV[5])
if amount == 0 then amount = held end
if amount > held then return accountDone('amount_exceeds_hold', acct, 0) end
acct.held = acct.held - held
acct.balance = acct.balance - amount
saveAccount(KEYS[2], acct)
holdResolve(KEYS[3], 'captured')
redis.call('HSET', KEYS[3], 'captured', intString(amount))
return accountDone('ok', acct, amount)
