-- diff: what changed between two targets (snapshots, dumps, a live system).
--   iommush diff.lua A [B]      script diff A [B]      (B defaults to the open target)
-- Lines: "+ " added, "- " removed, "~ " changed, for devices, mappings (per
-- device and PASID, in IOVA order) and interrupt remapping entries. Exit
-- status 1 when anything differs, as diff(1).
local iommu = iommu or require "iommu"
local lib = require "ishlib"

local USAGE = "diff A [B]"

local function device_sig(d)
	return table.concat({ d.unit, tostring(d.did), tostring(d.mode), tostring(d.tt), tostring(d.fpd),
		tostring(d.scalable), tostring(d.sl_root), tostring(d.fl_root) }, "|")
end

local function mapping_eq(a, b)
	return a.hpa == b.hpa and a.size == b.size and a.read == b.read and a.write == b.write
		and a.exec == b.exec and a.page_size == b.page_size
end

-- Streams the mappings of space s in ta and tb side by side, in IOVA order.
local function diff_mappings(ta, sa, tb, sb, emit)
	local label = sa and sa.key or sb.key
	local na = sa and lib.mappings(ta, sa) or function() return nil end
	local nb = sb and lib.mappings(tb, sb) or function() return nil end
	local a, b = na(), nb()
	while a or b do
		if b == nil or (a and math.ult(a.iova, b.iova)) then
			emit("-", "mapping " .. label .. " " .. lib.describe_mapping(a))
			a = na()
		elseif a == nil or math.ult(b.iova, a.iova) then
			emit("+", "mapping " .. label .. " " .. lib.describe_mapping(b))
			b = nb()
		else
			if not mapping_eq(a, b) then
				emit("~", string.format("mapping %s iova %s: hpa %s size %s %s -> hpa %s size %s %s", label,
					lib.hex(a.iova), lib.hex(a.hpa), lib.hex(a.size), lib.perms(a),
					lib.hex(b.hpa), lib.hex(b.size), lib.perms(b)))
			end
			a, b = na(), nb()
		end
	end
end

local function spaces_of(t)
	local r = {}
	for _, d in ipairs(assert(t:devices())) do
		for _, s in ipairs(lib.spaces(t, d)) do r[s.key] = s end
	end
	return r
end

-- Calls emit(sign, text) for every difference; returns the count.
local function diff(ta, tb, emit)
	local n = 0
	local function out(sign, text)
		n = n + 1
		emit(sign, text)
	end
	local sa, sb = spaces_of(ta), spaces_of(tb)
	local all = {}
	for k in pairs(sa) do all[k] = true end
	for k in pairs(sb) do all[k] = true end
	for _, k in ipairs(lib.keys(all)) do
		local a, b = sa[k], sb[k]
		if a and not b then
			out("-", "device " .. k .. " (" .. lib.describe_device(a.dev) .. ")")
		elseif b and not a then
			out("+", "device " .. k .. " (" .. lib.describe_device(b.dev) .. ")")
		elseif not a.pasid and device_sig(a.dev) ~= device_sig(b.dev) then
			out("~", "device " .. k .. ": " .. lib.describe_device(a.dev) .. " -> " .. lib.describe_device(b.dev))
		end
		diff_mappings(ta, a, tb, b, out)
	end
	local ia, ib = lib.irtes(ta), lib.irtes(tb)
	local keys = {}
	for k in pairs(ia) do keys[k] = true end
	for k in pairs(ib) do keys[k] = true end
	for _, k in ipairs(lib.keys(keys)) do
		local a, b = ia[k], ib[k]
		if a and not b then
			out("-", "irte " .. k .. " " .. lib.describe_irte(a))
		elseif b and not a then
			out("+", "irte " .. k .. " " .. lib.describe_irte(b))
		elseif a.lo ~= b.lo or a.hi ~= b.hi then
			out("~", "irte " .. k .. ": " .. lib.describe_irte(a) .. " -> " .. lib.describe_irte(b))
		end
	end
	return n
end

-- As a module (tests, watch): loadfile("diff.lua")(ta, tb [, emit]) returns the lines.
local args = { ... }
if lib.is_target(args[1]) then
	local lines = {}
	diff(args[1], args[2], args[3] or function(sign, text) lines[#lines + 1] = sign .. " " .. text end)
	return lines
end

local _, pos = lib.getopt(args, {}, USAGE)
if #pos < 1 or #pos > 2 then
	io.stderr:write("usage: " .. USAGE .. "\n")
	return false
end
local ta, tb = lib.target(pos[1]), lib.target(pos[2])
local n = diff(ta, tb, function(sign, text) print(sign .. " " .. text) end)
return n == 0
