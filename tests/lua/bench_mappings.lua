-- Benchmark: stream 1,000,000 mappings through t:mappings() and sum their
-- sizes. Every 4 KiB page maps to a non-adjacent HPA, so no two coalesce.
-- Usage: iommush -f bench_mappings.lua [N]   (or lua5.4 with LUA_CPATH set)
local iommu = iommu or require "iommu"
local images = require "images"

local n = tonumber(arg and arg[1]) or 1000000
local img = images.new()
local dev = img:device("00:02.0")
-- Leaf tables written directly: 512 PTEs per page, upper levels by map().
local per = 512
local built = os.clock()
local pages = (n + per - 1) // per
for p = 0, pages - 1 do
	local iova = p * per * 0x1000
	-- one map() per leaf table creates the path; the rest is written in bulk
	img:map(dev, iova, 0x100000000 + iova * 2, 0x1000, "rw")
	local e = img.t:read64(dev.root + ((iova >> 39) & 511) * 8) & ~0xfff
	e = img.t:read64(e + ((iova >> 30) & 511) * 8) & ~0xfff
	e = img.t:read64(e + ((iova >> 21) & 511) * 8) & ~0xfff
	local cnt = math.min(per, n - p * per)
	local parts = {}
	for i = 0, cnt - 1 do
		parts[#parts + 1] = string.pack("<I8", (0x100000000 + (iova + i * 0x1000) * 2) | 3)
	end
	assert(img.t:write(e, table.concat(parts)))
end
built = os.clock() - built

local t0 = os.clock()
local count, sum = 0, 0
for m in img.t:mappings("00:02.0") do
	count = count + 1
	sum = sum + m.size
end
local dt = os.clock() - t0
print(string.format("built %d mappings in %.2f s; iterated %d mappings, %d bytes, in %.3f s (%.0f ns each)",
	n, built, count, sum, dt, dt * 1e9 / count))
assert(count == n and sum == n * 0x1000, "wrong count or sum")
if os.getenv("BENCH_LIMIT") then
	assert(dt < tonumber(os.getenv("BENCH_LIMIT")), "too slow")
end
