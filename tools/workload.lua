-- A fixed CPU workload for tools/bench_runtime.py: the interpreter's hot paths (calls, tables, strings,
-- closures, sorting, coroutines), a few seconds natively. Prints one checksum so a wrong build shows.
local N = tonumber(arg and arg[1]) or 1
local sum = 0

local function fib(n) if n < 2 then return n end return fib(n - 1) + fib(n - 2) end

for _ = 1, N do
  sum = sum + fib(27)
  local t = {}
  for i = 1, 200000 do t[i] = (i * 7919) % 100003 end
  table.sort(t)
  sum = sum + t[1000] + #t
  local parts = {}
  for i = 1, 60000 do parts[#parts + 1] = string.format("%d:%s", i, string.rep("x", i % 7)) end
  local s = table.concat(parts, ",")
  for w in s:gmatch("(%d+):x+") do sum = sum + #w end
  sum = sum + #s:gsub("x", "y")
  local h = {}
  for i = 1, 100000 do h["k" .. (i % 5000)] = (h["k" .. (i % 5000)] or 0) + i end
  for _, v in pairs(h) do sum = (sum + v) % 1000000007 end
  local co = coroutine.wrap(function() for i = 1, 100000 do coroutine.yield(i) end end)
  for _ = 1, 100000 do sum = (sum + co()) % 1000000007 end
  local acc = 0
  local adders = {}
  for i = 1, 1000 do adders[i] = function(x) return x + i end end
  for i = 1, 300000 do acc = adders[i % 1000 + 1](acc) % 1000003 end
  sum = (sum + acc) % 1000000007
  local x = 0.0
  for i = 1, 1000000 do x = x + math.sin(i) * math.sqrt(i) end
  sum = (sum + math.floor(x)) % 1000000007
end
print(sum)
