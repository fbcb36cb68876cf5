-- wrk: POST the benchmark's mix (one JSON body a line in $BODIES), cycling through it.
local bodies = {}
for line in io.lines(os.getenv("BODIES")) do bodies[#bodies + 1] = line end
local i = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
-- With authentication on, the key to send (bench/lib/pipeline.ts sets it).
if os.getenv("TXPIPE_KEY") then wrk.headers["Authorization"] = "Bearer " .. os.getenv("TXPIPE_KEY") end
request = function()
  i = i % #bodies + 1
  return wrk.format(nil, nil, nil, bodies[i])
end
