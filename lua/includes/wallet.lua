--[[
  Account state, one hash per account: wallet:{<account>} = { balance, held, outgoing, overdraft, status }.
    held      funds reserved by pending holds (still in the balance)
    outgoing  funds debited by transfers whose credit has not been confirmed yet (no longer in the balance)
  available = balance + overdraft - held: what a debit, a hold or a transfer may still take.
  balance + outgoing + overdraft stays within 2^53-1, so a refund (which moves outgoing back into the
  balance) can never overflow.
]]
--- @include "tx"

local function loadAccount(key)
  local a = redis.call('HMGET', key, 'balance', 'held', 'overdraft', 'status', 'outgoing')
  if not a[1] then return nil, 'account_not_found' end
  return {
    balance = tonumber(a[1]), held = tonumber(a[2]), overdraft = tonumber(a[3]), status = a[4],
    outgoing = tonumber(a[5] or '0'),
    -- The balance before this command: its history entry's amount is the difference.
    balance0 = tonumber(a[1]),
  }
end

-- The account's numbers; with a rejection code when it cannot be used (its numbers still, nil if missing).
local function openAccount(key)
  local acct, err = loadAccount(key)
  if not acct then return nil, err end
  if acct.status ~= 'open' then return acct, 'account_closed' end
  return acct, nil
end

local function available(acct)
  return acct.balance + acct.overdraft - acct.held
end

-- Writes the changed numbers back.
local function saveAccount(key, acct)
  redis.call('HSET', key, 'balance', intString(acct.balance), 'held', intString(acct.held),
    'outgoing', intString(acct.outgoing))
end

-- Every wallet command answers with the account's balance and available, in that order (0 and 0 for a
-- missing account), then its own values; a change is recorded in the history with the signed amount
-- that moved the balance.
local function accountDone(code, acct, ...)
  if not acct then return txDone(code, 0, 0, ...) end
  if code == 'ok' or txChanged then txRecord(acct.balance - acct.balance0, acct.balance, available(acct)) end
  return txDone(code, acct.balance, available(acct), ...)
end

-- A debit within the account's available. A transfer's debit keeps the amount visible as outgoing.
local function debitAccount(key, amount, outgoing)
  local acct, err = openAccount(key)
  if err then return accountDone(err, acct) end
  if available(acct) < amount then return accountDone('insufficient_funds', acct) end
  acct.balance = acct.balance - amount
  if outgoing then acct.outgoing = acct.outgoing + amount end
  saveAccount(key, acct)
  return accountDone('ok', acct)
end

-- A transfer's last step on its source: the amount leaves outgoing, for good (settle) or back into the
-- balance (refund).
local function endTransfer(key, amount, refund)
  local acct, err = loadAccount(key)
  if not acct then return accountDone(err, nil) end
  acct.outgoing = acct.outgoing - amount
  if refund then acct.balance = acct.balance + amount end
  saveAccount(key, acct)
  return accountDone('ok', acct)
end

--- @include "hold"

-- Capture, void and expire (includes/hold.lua holdCommand) on the account at accountKey. A capture
-- answers one more value, the amount captured (0 when it is refused).
local function walletHolds(accountKey, capture)
  return {
    noun = 'hold',
    load = function() return loadAccount(accountKey) end,
    -- A pending hold's amount goes back to available (void, expire).
    release = function(acct, h)
      acct.held = acct.held - tonumber(h.amount)
      saveAccount(accountKey, acct)
    end,
    done = function(code, acct)
      if capture then return accountDone(code, acct, 0) end
      return accountDone(code, acct)
    end,
  }
end
