-- audit: nothing on a clean image; exactly the planted problem on each
-- purpose-built one.
local iommu = iommu or require "iommu"
local images = require "images"
local check = images.check

local src = os.getenv("ISH_SOURCE_ROOT") or ".."
local audit = assert(loadfile(src .. "/scripts/audit.lua"))

local RMRR = { base = 0x3e00000, limit = 0x3e0ffff }

-- A sane system: two translated devices, an RMRR identity-mapped for its
-- device, interrupt remapping with source validation, a queue.
local function clean(opts)
	opts = opts or {}
	local img = images.new({ te = opts.te })
	local d2 = img:device("00:02.0", { did = 1, fpd = opts.fpd })
	img:map(d2, 0x10000, 0x2000000, 0x4000, "rw")
	if not opts.no_rmrr_map then
		img:map(d2, RMRR.base, RMRR.base, RMRR.limit - RMRR.base + 1, "rw")
	end
	local d3 = img:device("00:03.0", { did = 2 })
	img:map(d3, 0x10000, 0x2100000, 0x1000, "r")
	img.t:set_dmar(images.dmar({ { base = RMRR.base, limit = RMRR.limit, devices = { "00:02.0" } } }))
	img:irt(7)
	img:irte(0, { vector = 0x30, sid = 0x10, svt = 1 })
	img:irte(1, { vector = 0x31, sid = 0x18, svt = opts.svt or 1 })
	img:iq({ { 0x2 | (1 << 4), 0 } })
	return img, d2, d3
end

local function checks_of(img)
	local set, list = {}, {}
	for _, f in ipairs(audit(img.t)) do
		set[f.check] = (set[f.check] or 0) + 1
		list[#list + 1] = f.severity .. " " .. f.check .. " " .. f.subject .. ": " .. f.message
	end
	return set, table.concat(list, "\n")
end

local function expect(name, img, want, subject)
	local set, text = checks_of(img)
	local keys = {}
	for k in pairs(set) do keys[#keys + 1] = k end
	check.ok(#keys == 1 and set[want], name .. ": want only '" .. want .. "', got:\n" .. text)
	if subject then
		check.ok(text:find(" " .. want .. " " .. subject, 1, true), name .. ": about " .. subject .. "\n" .. text)
	end
	return text
end

do
	local set, text = checks_of(clean())
	check.ok(next(set) == nil, "clean image: no findings, got:\n" .. text)
end

-- the device can write its own leaf page table
do
	local img, d2 = clean()
	local leaf = img.t:translate("00:02.0", 0x10000).steps[6].entry_addr & ~0xfff
	img:map(d2, 0x80000, leaf, 0x1000, "rw")
	local text = expect("self-write (page table)", img, "self-write", "00:02.0")
	check.ok(text:find("critical", 1, true), "self-write is critical")
end
-- ... or the root table, or the interrupt remapping table, or the queue
for _, what in ipairs({ "root", "irt", "iq" }) do
	local img, _, d3 = clean()
	local target = what == "root" and img.root or what == "irt" and img.irt_addr or img.iq_addr
	img:map(d3, 0x90000, target, 0x1000, "rw")
	expect("self-write (" .. what .. ")", img, "self-write", "00:03.0")
end
-- read-only access to the same page is no finding
do
	local img, d2 = clean()
	img:map(d2, 0x80000, img.root, 0x1000, "r")
	local set, text = checks_of(img)
	check.ok(next(set) == nil, "read-only mapping of the root table: no finding\n" .. text)
end
expect("translation-off", clean({ te = false }), "translation-off", "dmar0")
do
	local img = clean()
	img:device("00:04.0", { tt = 2 })
	expect("pass-through", img, "pass-through", "00:04.0")
end
do
	local img = clean()
	local d = img:device("00:05.0")
	img:map(d, 16 << 20, 16 << 20, 16 << 20, "rw", 0x200000)	-- no tables in 16..32 MiB
	expect("identity", img, "identity", "00:05.0")
end
do
	local img, _, d3 = clean()
	img:map(d3, 0x200000, RMRR.base + 0x1000, 0x1000, "r")
	expect("rmrr-foreign", img, "rmrr-foreign", "00:03.0")
end
expect("rmrr-unmapped", clean({ no_rmrr_map = true }), "rmrr-unmapped", "00:02.0")
expect("irte-no-sid", clean({ svt = 0 }), "irte-no-sid", "dmar0 #1")
expect("fault-disabled", clean({ fpd = true }), "fault-disabled", "00:02.0")
-- write + execute: a scalable-mode PASID entry with SLEE and an X mapping
do
	local sm = images.new({ scalable = true })
	local d = sm:sm_device("00:06.0", { slee = true })
	sm:map(d.sl, 0x10000, 0x2000000, 0x1000, "rwx")
	sm:map(d.sl, 0x20000, 0x2100000, 0x1000, "rx")
	expect("write-exec", sm, "write-exec", "00:06.0")
end

check.done()
