-- Helpers shared by the shipped scripts (audit, diff, export, watch).
-- Loaded with require "ishlib"; the shell puts the script directories on
-- package.path, and plain lua5.4 needs LUA_PATH to name them.
local iommu = iommu or require "iommu"

local M = {}

function M.hex(v)
	return string.format("0x%x", v)
end

function M.perms(m)
	return (m.read and "r" or "-") .. (m.write and "w" or "-") .. (m.exec and "x" or "-")
end

function M.is_target(v)
	return type(v) == "userdata" and tostring(v):match("^iommu%.target") ~= nil
end

-- Options: "--name" flags and "--name VALUE" pairs listed in spec
-- ({ json = false, interval = true }: true takes a value). Returns opts, positional.
function M.getopt(argv, spec, usage)
	local opts, pos, i = {}, {}, 1
	while i <= #argv do
		local a = argv[i]
		local name = type(a) == "string" and a:match("^%-%-([%w-]+)$")
		if name then
			if spec[name] == nil then
				io.stderr:write("unknown option --" .. name .. "\nusage: " .. usage .. "\n")
				error("usage", 0)
			end
			if spec[name] then
				i = i + 1
				if argv[i] == nil then error("--" .. name .. " needs a value", 0) end
				opts[name] = argv[i]
			else
				opts[name] = true
			end
		else
			pos[#pos + 1] = a
		end
		i = i + 1
	end
	return opts, pos
end

-- A target: a target object as is; a spec opened (a file, gdb:..., live);
-- nil or "-" the shell's open target.
function M.target(spec)
	if M.is_target(spec) then return spec end
	if spec == nil or spec == "-" then
		local t = iommu.target()
		if not t then error("no target: open one, or give it as an argument", 0) end
		return t
	end
	local t, msg = iommu.open(spec)
	if not t then error(spec .. ": " .. msg, 0) end
	return t
end

-- What to walk for a device: its requests without PASID (legacy, or the
-- RID_PASID entry in scalable mode), then every other present PASID.
-- Each item: { key = "dmar0 00:02.0" or "... pasid 5", bdf =, pasid = n|nil }.
function M.spaces(t, d)
	local list = { { key = d.unit .. " " .. d.bdf, bdf = d.bdf, dev = d } }
	if d.scalable then
		local ps = t:pasids(d.bdf) or {}
		for _, p in ipairs(ps) do
			if p.pasid ~= d.rid_pasid then
				list[#list + 1] = { key = string.format("%s %s pasid %d", d.unit, d.bdf, p.pasid),
					bdf = d.bdf, pasid = p.pasid, dev = d }
			end
		end
	end
	return list
end

-- An iterator over the mappings of one space; none if it has no tables.
function M.mappings(t, s)
	local it, _, _, closer = t:mappings(s.bdf, s.pasid)
	if not it then return function() return nil end end
	return it, nil, nil, closer
end

-- A one-line description of a device.
function M.describe_device(d)
	local parts = { d.unit }
	if d.did then parts[#parts + 1] = "did " .. d.did end
	if d.mode then parts[#parts + 1] = d.mode end
	if d.fpd then parts[#parts + 1] = "fpd" end
	if d.scalable then parts[#parts + 1] = "scalable" end
	return table.concat(parts, ", ")
end

function M.describe_mapping(m)
	return string.format("iova %s -> hpa %s size %s %s", M.hex(m.iova), M.hex(m.hpa), M.hex(m.size), M.perms(m))
end

function M.describe_irte(e)
	if not e.present then return "not present" end
	if e.posted then
		return string.format("posted vector 0x%x pda %s sid %s svt %s", e.vector, M.hex(e.pda), e.source, e.svt_name)
	end
	return string.format("vector 0x%x dest %d %s sid %s svt %s", e.vector, e.dest, e.dlm_name, e.source, e.svt_name)
end

-- Units that use interrupt remapping, and their IRTEs keyed "dmar0 #5".
function M.irtes(t)
	local r = {}
	local list = t:irtes()
	for _, e in ipairs(list or {}) do
		r[string.format("%s #%d", e.unit, e.index)] = e
	end
	return r
end

-- Sorted keys of a table (stable output).
function M.keys(tab)
	local k = {}
	for key in pairs(tab) do k[#k + 1] = key end
	table.sort(k)
	return k
end

return M
