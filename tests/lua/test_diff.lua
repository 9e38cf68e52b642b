-- diff: exactly the planted changes between two images (and none between
-- an image and itself, or an image and its snapshot).
local iommu = iommu or require "iommu"
local images = require "images"
local check = images.check

local src = os.getenv("ISH_SOURCE_ROOT") or ".."
local diff = assert(loadfile(src .. "/scripts/diff.lua"))

local function build(changed)
	local img = images.new()
	local d2 = img:device("00:02.0", { did = 1 })
	img:map(d2, 0x10000, 0x2000000, 0x4000, "rw")
	img:map(d2, 0x20000, 0x2100000, 0x1000, changed and "rw" or "r")	-- changed
	if not changed then img:map(d2, 0x30000, 0x2200000, 0x1000, "r") end	-- removed
	if changed then img:map(d2, 0x50000, 0x2300000, 0x2000, "rw") end	-- added
	local d3 = img:device("00:03.0", { did = changed and 4 or 2 })	-- changed
	img:map(d3, 0x10000, 0x2100000, 0x1000, "r")
	if not changed then img:device("00:05.0", { tt = 2 }) end		-- removed
	if changed then img:device("00:06.0", { tt = 2 }) end		-- added
	img:irt(5)
	img:irte(0, { vector = 0x30, sid = 0x10 })
	img:irte(1, { vector = changed and 0x41 or 0x31, sid = 0x18 })	-- changed
	if changed then img:irte(2, { vector = 0x32, sid = 0x28 }) end	-- added
	return img
end

local a, b = build(false), build(true)
local got = diff(a.t, b.t)
local want = {
	"~ mapping dmar0 00:02.0 iova 0x20000: hpa 0x2100000 size 0x1000 r-- -> hpa 0x2100000 size 0x1000 rw-",
	"- mapping dmar0 00:02.0 iova 0x30000 -> hpa 0x2200000 size 0x1000 r--",
	"+ mapping dmar0 00:02.0 iova 0x50000 -> hpa 0x2300000 size 0x2000 rw-",
	"~ device dmar0 00:03.0: dmar0, did 2, second-level -> dmar0, did 4, second-level",
	"- device dmar0 00:05.0 (dmar0, did 1, pass-through)",
	"- mapping dmar0 00:05.0 iova 0x0 -> hpa 0x0 size 0x1000000000000 rwx",
	"+ device dmar0 00:06.0 (dmar0, did 1, pass-through)",
	"+ mapping dmar0 00:06.0 iova 0x0 -> hpa 0x0 size 0x1000000000000 rwx",
	"~ irte dmar0 #1: vector 0x31 dest 0 fixed sid 00:03.0 svt requester-id -> vector 0x41 dest 0 fixed sid 00:03.0 svt requester-id",
	"+ irte dmar0 #2 vector 0x32 dest 0 fixed sid 00:05.0 svt requester-id",
}
check.eq(#got, #want, "number of differences\n" .. table.concat(got, "\n"))
for i = 1, math.max(#got, #want) do
	check.eq(got[i], want[i], "line " .. i)
end
check.eq(#diff(a.t, a.t), 0, "an image against itself")
check.eq(#diff(b.t, build(true).t), 0, "two builds of the same image")

-- against a snapshot of itself
local snap = (os.getenv("TMPDIR") or "/tmp") .. "/iommush-diff-" .. math.random(1 << 30) .. ".snapshot"
if check.ok(b.t:snapshot(snap), "snapshot") then
	local s <close> = assert(iommu.open(snap))
	local d = diff(b.t, s)
	check.eq(#d, 0, "image against its snapshot\n" .. table.concat(d, "\n"))
	os.remove(snap)
end
check.done()
