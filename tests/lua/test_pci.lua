-- t:pci(): PCI functions of a mem image with config space (a root port and
-- a device behind it, named by a DMAR scope through the port), and of the
-- demo snapshot (a real QEMU guest) against `pci --json` in the shell.
local iommu = iommu or require "iommu"
local images = require "images"
local check = images.check
local ok, eq, raises, fails = check.ok, check.eq, check.raises, check.fails

-- Config space: id, class, header type; a bridge's bus numbers at 0x18.
local function config(id, class, hdr, pri, sec, sub)
	local c = string.pack("<I4I4I4BBBB", id, 0, 1 | class << 8, 0, 0, hdr, 0)
	c = c .. string.rep("\0", 0x18 - #c)
	return c .. string.pack("BBB", pri or 0, sec or 0, sub or 0)
end

local img = images.new()
local t = img.t
local d = img:device("03:00.0", { did = 9 })
assert(t:add_config("00:00.0", config(0x29c08086, 0x060000, 0)))
assert(t:add_config("00:1c.0", config(0x000c1b36, 0x060400, 1, 0, 3, 3)))
assert(t:add_config("03:00.0", config(0x11e81234, 0x00ff00, 0)))
raises(function() t:add_config("00:01.0", string.rep("x", 4097)) end, "4096", "config larger than 4 KiB")

local funcs, findings = assert(t:pci())
eq(#funcs, 3, "three functions")
eq(#findings, 0, "no findings")
local by = {}
for _, f in ipairs(funcs) do by[f.bdf] = f end
eq(by["00:1c.0"].bridge.secondary, 3, "root port secondary bus")
eq(by["00:1c.0"].bridge.subordinate, 3, "root port subordinate bus")
eq(by["00:1c.0"].class, 0x060400, "root port class")
eq(by["03:00.0"].vendor, 0x1234, "edu vendor")
eq(by["03:00.0"].device, 0x11e8, "edu device")
eq(by["03:00.0"].bridge, nil, "an endpoint has no bus range")
eq(by["03:00.0"].unit, "dmar0", "edu unit")
eq(by["03:00.0"].cover, "INCLUDE_PCI_ALL", "no DMAR: mem units are INCLUDE_PCI_ALL")
eq(by["03:00.0"].context.present, true, "edu context present")
eq(by["03:00.0"].context.did, 9, "edu DID")
eq(by["03:00.0"].context.mode, "legacy", "legacy mode")
eq(by["00:00.0"].context, nil, "no context entry for 00:00.0 ...")
ok(by["00:00.0"].why ~= nil, "... and why")

eq(t:read_config("00:1c.0", 0x19, 8), 3, "read_config: secondary bus")
eq(t:read_config("03:00.0", 2, 16), 0x11e8, "read_config: device id")
fails("not-found", "read_config of a function that is not there", t:read_config("04:00.0", 0))
raises(function() t:read_config("00:1c.0", 4096) end, "offset out of range", "read_config offset")

-- A second unit, and a DMAR whose scope reaches 03:00.0 through 00:1c.0.
local u1 = assert(t:add_unit(0xfed91000))
local drhd1 = string.pack("<I2I2BBI2I8", 0, 16, 1, 0, 0, images.BASE)
local scope = string.pack("<BBBBBBBBBB", 1, 10, 0, 0, 0, 0, 0x1c, 0, 0, 0)
local drhd2 = string.pack("<I2I2BBI2I8", 0, 16 + #scope, 0, 0, 0, 0xfed91000) .. scope
local body = drhd1 .. drhd2
local hdr = string.pack("<c4I4BBc6c8I4c4I4BBc10", "DMAR", 48 + #body, 1, 0, "ISHTST", "IOMMUSH ",
	1, "ISH ", 1, 47, 1, string.rep("\0", 10))
assert(t:set_dmar(hdr .. body))
funcs = assert(t:pci())
by = {}
for _, f in ipairs(funcs) do by[f.bdf] = f end
eq(by["03:00.0"].unit, "dmar1", "scope through the root port picks dmar1")
eq(by["03:00.0"].cover, "scope", "... by its scope")
eq(by["00:1c.0"].unit, "dmar0", "the root port is INCLUDE_PCI_ALL's")
ok(by["03:00.0"].why:find("dmar1", 1, true), "dmar1 has no registers: said, not raised")
eq(by["00:1c.0"].cover, "INCLUDE_PCI_ALL", "... and says so")

-- A loop: the port's secondary bus is its own.
assert(t:add_config("00:1c.0", config(0x000c1b36, 0x060400, 1, 0, 0, 3)))
funcs, findings = assert(t:pci())
eq(#funcs, 2, "behind a looping bridge nothing is scanned")
ok(findings[1] and findings[1]:find("secondary bus 00 is not above its own bus 00", 1, true),
	"the loop is a finding")

-- No config space at all: nil, message, code.
fails("unsupported", "pci without config space", iommu.mem():pci())

-- The demo snapshot: the same functions as `pci --json` in the shell.
local root = os.getenv("ISH_SOURCE_ROOT")
if root then
	local s = assert(iommu.open(root .. "/demo/demo.snapshot"))
	local sf = assert(s:pci())
	eq(#sf, 8, "demo: eight functions")
	eq(sf[2].bdf, "00:01.0", "demo: 00:01.0")
	eq(sf[2].vendor, 0x8086, "demo: e1000e vendor")
	eq(sf[2].device, 0x10d3, "demo: e1000e device")
	eq(sf[2].class, 0x020000, "demo: ethernet class")
	eq(sf[2].cover, "scope", "demo: QEMU's DMAR names each device")
	eq(sf[2].context.mode, "scalable", "demo: scalable")
	s:close()
end

check.done()
