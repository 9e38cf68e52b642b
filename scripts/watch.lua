-- watch: poll a live target and print mapping, device, IRTE and fault changes.
--   iommush gdb:localhost:1234 -f watch.lua     iommush watch.lua [--interval S] [--count N] [TARGET]
-- Every S seconds (default 1) the target's cache is dropped and its state
-- compared with the previous poll, as diff does; new fault records are
-- printed as they appear. Ctrl-C stops it. --count N stops after N polls.
local iommu = iommu or require "iommu"
local lib = require "ishlib"

local USAGE = "watch [--interval S] [--count N] [TARGET]"
local opts, pos = lib.getopt({ ... }, { interval = true, count = true }, USAGE)
local t = lib.target(pos[1])
local interval = tonumber(opts.interval or 1) or error("--interval wants seconds", 0)
local count = opts.count and (tonumber(opts.count) or error("--count wants a number", 0))
local diff = assert(loadfile(package.searchpath("diff", package.path) or "diff.lua"))

local function fault_key(f)
	return string.format("%s #%d %x %x", f.unit, f.index, f.lo, f.hi)
end

local function faults()
	local r = {}
	for _, f in ipairs(t:faults() or {}) do r[fault_key(f)] = f end
	return r
end

-- Previous state: a snapshot file, reopened as a target for the diff.
local dir = os.getenv("TMPDIR") or "/tmp"
local path = string.format("%s/iommush-watch-%d.snapshot", dir, math.random(1 << 30))
local function snap()
	t:refresh()
	local ok, msg = t:snapshot(path)
	if not ok then error("snapshot: " .. msg, 0) end
	return assert(iommu.open(path))
end

-- The snapshot file goes however the script ends (Ctrl-C included).
local cleanup <close> = setmetatable({}, { __close = function() os.remove(path) end })
local prev, prev_faults = snap(), faults()
local polls = 0
print(string.format("watching %s every %gs (Ctrl-C stops)", t:info().spec, interval))
while not count or polls < count do
	iommu.sleep(interval)
	polls = polls + 1
	local cur, cur_faults = snap(), faults()
	local stamp = os.date("%H:%M:%S")
	diff(prev, cur, function(sign, text) print(stamp .. " " .. sign .. " " .. text) end)
	for _, k in ipairs(lib.keys(cur_faults)) do
		if not prev_faults[k] then
			local f = cur_faults[k]
			print(string.format("%s ! fault %s %s %s: reason 0x%x %s%s", stamp, f.unit, f.bdf, f.type, f.reason,
				f.text, f.addr and (" at " .. lib.hex(f.addr)) or ""))
		end
	end
	prev:close()
	prev, prev_faults = cur, cur_faults
	io.stdout:flush()
end
prev:close()
return true
