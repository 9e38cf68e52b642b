-- The iommu module on images built in the mem backend: every function,
-- its results checked against what the VT-d tables say, and its error paths.
-- Runs in the shell (iommush -f) and in plain lua5.4 (require "iommu").
local iommu = iommu or require "iommu"
local images = require "images"
local check = images.check
local ok, eq, raises, fails = check.ok, check.eq, check.raises, check.fails

local tmp = os.getenv("TMPDIR") or "/tmp"

-- --- legacy image ---
local img = images.new()
local t = img.t
local d2 = img:device("00:02.0", { did = 5 })
img:map(d2, 0x10000, 0x200000, 0x3000, "rw")	-- one coalesced range
img:map(d2, 0x20000, 0x300000, 0x1000, "r")
img:map(d2, 0x40000000, 0x80000000, 0x200000, "rw", 0x200000)
img:device("00:03.0", { tt = 2, did = 7, fpd = true })

eq(tostring(t):match("^iommu%.target %(mem"), "iommu.target (mem", "tostring(target)")
local info = t:info()
eq(info.backend, "mem", "info.backend")
eq(info.units, 1, "info.units")
eq(info.writable, true, "info.writable")
eq(info.force, false, "info.force: not asked for")
eq(info.yes, false, "info.yes: not asked for")

-- units and registers
local units = t:units()
eq(#units, 1, "one unit")
local u = units[1]
eq(u.name, "dmar0", "unit name")
eq(u.index, 0, "unit index")
eq(u.base, images.BASE, "unit base")
eq(u.segment, 0, "unit segment")
ok(tostring(u):find("dmar0 at 0xfed90000", 1, true), "tostring(unit)")
local cap = assert(u:reg("CAP"))
eq(cap.value, images.CAP, "CAP value")
eq(cap.offset, 0x08, "CAP offset")
eq(cap.width, 64, "CAP width")
eq(cap.fields.SAGAW, 6, "CAP.SAGAW")
eq(cap.fields.MGAW, 47, "CAP.MGAW raw")
eq(cap.fields.FRO, 0x22, "CAP.FRO")
eq(cap.fields.NFR, 3, "CAP.NFR")
local gsts = assert(u:reg("DMAR_GSTS_REG"))
eq(gsts.fields.TES, 1, "GSTS.TES")
eq(gsts.fields.RTPS, 1, "GSTS.RTPS")
eq(assert(u:reg("frcd0_hi")).offset, 0x228, "FRCD0_HI offset from CAP.FRO")
raises(function() u:reg("NOPE") end, "unknown register", "u:reg(unknown)")
fails("not-found", "u:reg of a register never set", u:reg("PMEN"))
local regs = assert(u:regs())
local names = {}
for _, r in ipairs(regs) do names[r.name] = r end
ok(names.GSTS and names.CAP and names.RTADDR, "u:regs lists GSTS, CAP, RTADDR")
eq(names.RTADDR.value, img.root, "regs RTADDR value")
local st = assert(u:state())
eq(st.translation_enabled, true, "state.translation_enabled")
eq(st.mode, "legacy", "state.mode")
eq(st.root_table, img.root, "state.root_table")
eq(st.mgaw, 48, "state.mgaw")
eq(t:unit("dmar0").index, 0, "t:unit by name")
raises(function() t:unit("dmar9") end, "no such unit", "t:unit(unknown)")

-- devices
local devs = assert(t:devices())
eq(#devs, 2, "two devices")
eq(devs[1].bdf, "00:02.0", "device 1 bdf")
eq(devs[1].rid, 0x10, "device 1 rid")
eq(devs[1].did, 5, "device 1 did")
eq(devs[1].mode, "second-level", "device 1 mode")
eq(devs[1].sl_levels, 4, "device 1 levels")
eq(devs[1].sl_root, d2.root, "device 1 sl_root")
eq(devs[2].bdf, "00:03.0", "device 2 bdf")
eq(devs[2].pass_through, true, "device 2 pass-through")
eq(devs[2].fpd, true, "device 2 fpd")
eq(devs[2].tt, 2, "device 2 TT")

-- context
local c = assert(t:context("00:02.0"))
eq(c.unit, "dmar0", "context unit")
eq(c.root.present, true, "root present")
eq(c.root.ctp, img.ctx[0], "root ctp")
eq(c.root.raw[1], img.ctx[0] | 1, "root raw")
eq(c.context.present, true, "context present")
eq(c.context.did, 5, "context did")
eq(c.context.fields.DID, 5, "context fields.DID")
eq(c.context.aw, 2, "context aw")
eq(c.context.slptptr, d2.root, "context slptptr")
eq(c.context.raw[1], d2.root | 1, "context raw[1]")
eq(c.context.raw[2], 2 | (5 << 8), "context raw[2]")
eq(#c.context.problems, 0, "no problems")
local c9 = assert(t:context(0x0100))	-- bus 1: no root entry
eq(c9.context, nil, "no context entry on bus 1")
eq(c9.fault.reason, 1, "bus 1: root entry not present (0x1)")
raises(function() t:context("zz") end, "not a BDF", "bad BDF")
raises(function() t:context("00:20.0") end, "BDF out of range", "device 0x20")
raises(function() t:context(0x10000) end, "requester id out of range", "rid too big")

-- mappings: values bit for bit
local ms = {}
for m in t:mappings("00:02.0") do ms[#ms + 1] = m end
eq(#ms, 3, "three mappings")
eq(ms[1].iova, 0x10000, "m1 iova")
eq(ms[1].hpa, 0x200000, "m1 hpa")
eq(ms[1].size, 0x3000, "m1 coalesced size")
eq(ms[1].page_size, 0x1000, "m1 page size")
ok(ms[1].read and ms[1].write and not ms[1].exec, "m1 rw-")
eq(ms[2].iova, 0x20000, "m2 iova")
ok(ms[2].read and not ms[2].write, "m2 r--")
eq(ms[3].iova, 0x40000000, "m3 iova")
eq(ms[3].hpa, 0x80000000, "m3 hpa")
eq(ms[3].page_size, 0x200000, "m3 2M page")
-- a range
local n = 0
for m in t:mappings("00:02.0", nil, { lo = 0x11000, hi = 0x20fff }) do
	n = n + 1
	if n == 1 then eq(m.iova, 0x11000, "clipped range starts at lo"); eq(m.size, 0x2000, "clipped size") end
end
eq(n, 2, "range holds two mappings")
raises(function() t:mappings("00:02.0", nil, { lo = 2, hi = 1 }) end, "lo is above hi", "lo > hi")
raises(function() t:mappings("00:02.0", 1 << 20) end, "PASID out of range", "pasid 2^20")
-- pass-through: one identity range
local pt = {}
for m in t:mappings("00:03.0") do pt[#pt + 1] = m end
eq(#pt, 1, "pass-through: one range")
eq(pt[1].pass_through, true, "pass-through flag")
eq(pt[1].iova, pt[1].hpa, "pass-through identity")
-- a device without context entry: nil, msg, code
fails("not-found", "mappings of an absent device", t:mappings("00:1f.0"))
-- break closes the walk (to-be-closed value)
do
	local it, s, c0, closer = t:mappings("00:02.0")
	ok(tostring(closer):find("iommu.mappings (00:02.0", 1, true), "closer is the walk")
	for _ in it, s, c0, closer do break end
end

-- translate
local tr = assert(t:translate("00:02.0", 0x11234))
eq(tr.hpa, 0x201234, "translate hpa")
eq(tr.page_size, 0x1000, "translate page size")
eq(tr.did, 5, "translate did")
eq(tr.fault, nil, "translate: no fault")
eq(tr.steps[1].kind, "root", "step 1 root")
eq(tr.steps[2].kind, "context", "step 2 context")
eq(#tr.steps, 6, "root + context + 4 levels")
eq(tr.steps[6].kind, "sl-pte", "leaf step")
eq(tr.steps[6].raw[1], 0x201000 | 3, "leaf raw")
local trw = assert(t:translate("00:02.0", 0x20000, { write = true }))
eq(trw.fault.reason, 5, "write to a read-only page: fault 0x5")
local tru = assert(t:translate("00:02.0", 0x90000))
eq(tru.fault.reason, 6, "unmapped read: fault 0x6")
ok(tru.fault.text:lower():find("read"), "fault text says read")
local tr2m = assert(t:translate("00:02.0", 0x40123456))
eq(tr2m.hpa, 0x80123456, "2M page translation")
eq(tr2m.page_size, 0x200000, "2M page size")
local trpt = assert(t:translate("00:03.0", 0x12345678))
eq(trpt.hpa, 0x12345678, "pass-through translation")
eq(trpt.pass_through, true, "pass-through flagged")
local trx = assert(t:translate("00:1f.0", 0x1000))
eq(trx.fault.reason, 2, "absent context entry: fault 0x2")
eq(trx.fault.recorded, true, "fault recorded")

-- who maps
local w = assert(t:who_maps(0x201800))
local found
for _, x in ipairs(w) do if x.bdf == "00:02.0" then found = x end end
ok(found, "who_maps finds 00:02.0")
eq(found and found.iova, 0x11800, "who_maps iova")
eq(found and found.mapping.hpa, 0x200000, "who_maps range")

-- memory
eq(t:read64(img.root), img.ctx[0] | 1, "read64 root entry")
eq(t:read(img.root, 8), string.pack("<I8", img.ctx[0] | 1), "read bytes")
fails("fault", "read outside memory", t:read(0x100000000, 8))
fails("fault", "read64 outside memory", t:read64(0x100000000))
raises(function() t:read(0, -1) end, "length out of range", "negative length")
ok(t:write64(0x3f00000, 0x1122334455667788), "write64")
eq(t:read64(0x3f00000), 0x1122334455667788, "write64 read back")
fails("fault", "write outside memory", t:write(0x100000000, "x"))
local stats = t:stats()
ok(stats.phys_requests >= 0 and stats.cache_hits >= 0, "stats")
t:refresh()

-- DMAR
fails("not-found", "no DMAR table", t:dmar())
assert(t:set_dmar(images.dmar({ { base = 0x3e00000, limit = 0x3efffff, devices = { "00:02.0" } } })))
local dm = assert(t:dmar())
eq(dm.signature, "DMAR", "dmar signature")
eq(dm.checksum_ok, true, "dmar checksum")
eq(dm.haw, 48, "dmar haw")
eq(dm.intr_remap, true, "dmar INTR_REMAP")
eq(dm.structs[1].type, "DRHD", "struct 1 DRHD")
eq(dm.structs[1].base, images.BASE, "DRHD base")
eq(dm.structs[1].include_pci_all, true, "DRHD INCLUDE_PCI_ALL")
eq(dm.structs[2].type, "RMRR", "struct 2 RMRR")
eq(dm.structs[2].base, 0x3e00000, "RMRR base")
eq(dm.structs[2].limit, 0x3efffff, "RMRR limit")
eq(dm.structs[2].scopes[1].bdf, "00:02.0", "RMRR scope")
eq(#dm.findings, 0, "no DMAR findings")

-- interrupt remapping
fails("invalid", "IRTE index past a zero-size table", t:irte(600))
img:irt(7)	-- 256 entries
img:irte(3, { vector = 0x41, dest = 2, sid = 0x10, svt = 1 })
img:irte(9, { vector = 0x42, sid = 0x18, svt = 0 })
local e3 = assert(t:irte(3))
eq(e3.present, true, "irte 3 present")
eq(e3.vector, 0x41, "irte 3 vector")
eq(e3.dest, 2, "irte 3 xAPIC dest (bits 47:40)")
eq(e3.sid, 0x10, "irte 3 sid")
eq(e3.source, "00:02.0", "irte 3 source")
eq(e3.svt, 1, "irte 3 svt")
eq(e3.unit, "dmar0", "irte unit")
eq(u:irte(3).vector, 0x41, "u:irte")
eq(assert(t:irte(4)).present, false, "irte 4 absent")
fails("invalid", "IRTE index past the table", t:irte(256))
raises(function() t:irte(-1) end, "index out of range", "negative IRTE index")
local irtes = assert(t:irtes())
eq(#irtes, 2, "two present IRTEs")
eq(irtes[2].index, 9, "second IRTE index")
eq(irtes[2].svt, 0, "second IRTE svt")
eq(#assert(u:irtes()), 2, "u:irtes")

-- invalidation queue: an IOTLB global and a wait descriptor
img:iq({ { 0x2 | (1 << 4), 0 }, { 0x5 | (1 << 5), 0 } })
local q = assert(t:iq(0))
eq(q.base, img.iq_addr, "iq base")
eq(q.pending, 2, "iq pending")
eq(q.enabled, true, "iq enabled")
eq(q.desc_size, 16, "iq descriptor size")
eq(q.descriptors[1].name, "iotlb", "descriptor 1 iotlb")
eq(q.descriptors[2].name, "wait", "descriptor 2 wait")
eq(#assert(t:iq()), 1, "t:iq() lists every unit")
eq(u:iq().pending, 2, "u:iq")

-- faults
eq(#assert(t:faults()), 0, "no faults")
img:fault(1, 6, 0x10, 0x90000, true)
local f = assert(t:faults())
eq(#f, 1, "one fault record")
eq(f[1].index, 1, "fault index")
eq(f[1].reason, 6, "fault reason")
eq(f[1].bdf, "00:02.0", "fault bdf")
eq(f[1].addr, 0x90000, "fault addr")
eq(f[1].type, iommu.reason and f[1].type, "fault type")
ok(f[1].text:lower():find("read"), "fault text")
eq(#u:faults(), 1, "u:faults")

-- invalidate
raises(function() t:invalidate({ what = "nonsense" }) end, "invalid option", "invalidate what")
raises(function() t:invalidate({ what = "iotlb", did = 0x10000 }) end, "field out of range", "did range")
-- A mem target has no hardware behind it: the descriptors are written and
-- the tail advanced, but nothing executes the queue, so the wait times out.
-- This image has the queue enabled (GSTS.QIES), so registers are refused.
local r1, m1, c1 = t:invalidate({ what = "iotlb", granularity = "domain", did = 5, method = "register" })
ok(r1 == nil and c1 == "invalid" and m1:find("QIES"), "register invalidation refused while the queue is enabled")
-- The image's queue holds a wait descriptor that is not iommush's: another
-- agent drives it, so a queued invalidation is refused, nothing written.
local r3, m3, c3 = t:invalidate({ what = "iotlb", granularity = "domain", did = 5 })
ok(r3 == nil and c3 == "refused" and m3:find("an operating system drives dmar0's invalidation queue", 1, true),
   "queued invalidation into another agent's queue is refused: " .. tostring(m3))
eq(u:iq().pending, 2, "the refused invalidation queued nothing")
-- A queue nobody uses (every slot empty) is free.
img:iq({})
local q0 = u:iq()
local r2, m2, c2 = t:invalidate({ what = "iotlb", granularity = "domain", did = 5 })
ok(r2 == nil and c2 == "timeout" and type(m2) == "string", "queued invalidation: the wait times out")
local q1 = u:iq()
eq(q1.pending, q0.pending + 2, "the descriptor and its wait are queued")
local dd = q1.descriptors[q0.pending + 1]
ok(dd and dd.name == "iotlb" and dd.text:find("did=5"), "the queued descriptor is a domain IOTLB invalidation of DID 5")
ok(q1.descriptors[q0.pending + 2] and q1.descriptors[q0.pending + 2].name == "wait", "followed by a wait descriptor")
raises(function() t:invalidate({ what = "iotlb", method = "sideways" }) end, "invalid option", "invalidate method")

-- snapshot, and the snapshot opened read-only
local snap = tmp .. "/iommush-lua-test-" .. os.time() .. "-" .. math.random(1 << 30) .. ".snapshot"
local sst = t:snapshot(snap)
if ok(sst, "snapshot written") then
	eq(sst.units, 1, "snapshot units")
	eq(sst.devices, 2, "snapshot devices")
	local s <close> = assert(iommu.open(snap))
	eq(s:info().backend, "dump", "snapshot opens with the dump backend")
	eq(#s:devices(), 2, "snapshot devices")
	local sm = {}
	for m in s:mappings("00:02.0") do sm[#sm + 1] = m end
	eq(#sm, 3, "snapshot mappings")
	eq(sm[3].hpa, 0x80000000, "snapshot mapping hpa")
	eq(s:translate("00:02.0", 0x11234).hpa, 0x201234, "snapshot translate")
	fails("read-only", "invalidate on a read-only target", s:invalidate({ what = "context" }))
	raises(function() s:add_ram(0, 4096) end, "only a target from iommu.mem()", "building a dump")
	os.remove(snap)
end
fails("os", "snapshot into a missing directory", t:snapshot("/nonexistent/dir/x.snapshot"))

-- open
local o, om, oc = iommu.open("/nonexistent/file.core")
ok(o == nil and type(om) == "string" and type(oc) == "string", "open a missing file: nil, msg, code")
raises(function() iommu.open({}) end, "string expected", "open(table)")
raises(function() iommu.open("x", { ["dump.regs"] = 1 }) end, "parameter values are strings", "open numeric param")

-- close, __close, use after close
local m2 = assert(iommu.mem())
m2:close()
raises(function() m2:units() end, "closed target", "use after close")
ok(tostring(m2):find("closed"), "tostring(closed)")
m2:close()	-- twice is fine
do
	local m3 <close> = assert(iommu.mem())
	assert(m3:add_ram(0, 4096))
end
raises(function() img.t:set_reg(0, "FRCD0_LO", 1) end, "give its offset", "set_reg of a dynamic register")

-- json
eq(iommu.json({ b = { 1, 2, true }, a = "x\n", c = {} }), '{"a":"x\\n","b":[1,2,true],"c":[]}', "json object")
eq(iommu.json(-1), "-1", "json signed")
eq(iommu.json(-1, { unsigned = true }), "18446744073709551615", "json unsigned")
eq(iommu.json(2.0), "2", "json integral float")
eq(iommu.json(nil), "null", "json nil")
local cyc = {}
cyc.self = cyc
raises(function() iommu.json(cyc) end, "nested too deep", "json cycle")
raises(function() iommu.json({ [true] = 1 }) end, "keys must be strings", "json bad key")
raises(function() iommu.json(print) end, "cannot encode", "json function")

-- misc
local txt, kind = iommu.reason(0x22)
ok(txt:lower():find("present"), "reason 0x22 text")
eq(kind, "ir", "reason 0x22 kind")
eq(select(2, iommu.bdf("00:03.1")), 0x19, "bdf rid")
eq(iommu.bdf(0x19), "00:03.1", "bdf string")
eq(iommu.bdf("0000:01:00.0"), "01:00.0", "bdf with segment")
local regs_def = iommu.registers()
ok(#regs_def > 20 and regs_def[1].name, "register table")
ok(type(iommu.version) == "string", "version")

-- --- scalable image ---
local sm = images.new({ scalable = true })
local sd = sm:sm_device("00:04.0", { did = 9 })
sm:map(sd.sl, 0x1000, 0x500000, 0x2000, "rw")
local p5 = sm:sm_pasid(sd, 5, { did = 10 })
sm:map(p5, 0x7000, 0x600000, 0x1000, "r")
local st2 = sm.t:units()[1]:state()
eq(st2.mode, "scalable", "scalable mode")
local sdev = assert(sm.t:devices(true))[1]
eq(sdev.scalable, true, "scalable device")
eq(sdev.did, 9, "RID_PASID did")
eq(sdev.mode, "second-level", "PGTT 2")
eq(sdev.pasids, 2, "two PASIDs counted")
local pe = assert(sm.t:pasid("00:04.0", 5))
eq(pe.entry.present, true, "pasid 5 present")
eq(pe.entry.pgtt, 2, "pasid 5 PGTT")
eq(pe.entry.did, 10, "pasid 5 did")
eq(pe.entry.slptptr, p5.root, "pasid 5 SLPTPTR")
eq(pe.dir.present, true, "pasid dir entry present")
eq(pe.dir.smptblptr, sd.tables[0], "pasid table pointer")
local pe6 = assert(sm.t:pasid("00:04.0", 6))
eq(pe6.fault.reason, 0x59, "pasid 6 not present: 0x59")
local ps = assert(sm.t:pasids("00:04.0"))
eq(#ps, 2, "t:pasids")
eq(ps[2].pasid, 5, "t:pasids second")
local sms = {}
for m in sm.t:mappings("00:04.0", 5) do sms[#sms + 1] = m end
eq(#sms, 1, "pasid 5 mappings")
eq(sms[1].hpa, 0x600000, "pasid 5 hpa")
eq(assert(sm.t:translate("00:04.0", 0x1800)).hpa, 0x500800, "scalable translate (RID_PASID)")
eq(assert(sm.t:translate("00:04.0", 0x7008, { pasid = 5 })).hpa, 0x600008, "scalable translate pasid 5")
eq(#assert(sm.t:context("00:04.0")).context.raw, 4, "scalable context is 256 bits")
fails("unsupported", "t:pasid on a legacy unit", t:pasid("00:02.0", 1))
raises(function() t:pasid("00:02.0") end, "PASID expected", "t:pasid without PASID")

-- --- hostile tables and the batched walk ---
local h = images.new()
local hd = h:device("00:05.0")
-- 3000 separate pages (3 batches of 1024), with one reserved-bit leaf
for i = 0, 2999 do h:map(hd, i * 0x2000, 0x1000000 + i * 0x4000, 0x1000, "rw") end
-- the leaf right after the first batch: the walker sees it while looking ahead
local pt_addr = h.t:translate("00:05.0", 1024 * 0x2000).steps[6].entry_addr
h:w64(pt_addr, h:r64(pt_addr) | (1 << 50))	-- address bits 51:48 are reserved with a 48-bit MGAW
local cnt, seen, last = 0, 0, -1
for m in h.t:mappings("00:05.0", nil, { on_finding = function(fd) seen = seen + 1; eq(fd.kind, "reserved", "finding kind") end }) do
	cnt = cnt + 1
	ok(m.iova > last, "mappings in IOVA order")
	last = m.iova
end
ok(cnt >= 2999 and cnt <= 3000, "3000 pages streamed in batches (" .. cnt .. ")")
eq(seen, 1, "the reserved-bit finding is reported once across batch restarts")
raises(function()
	for _ in h.t:mappings("00:05.0", nil, { on_finding = function() error("boom from finding") end }) do end
end, "boom from finding", "an error in on_finding ends the walk")
-- a cycle: a level-2 entry pointing back at the level-3 table
local c3 = h.t:translate("00:05.0", 0).steps[4].entry_addr & ~0xfff	-- level 3 table
local c2 = h.t:translate("00:05.0", 0).steps[5].entry_addr		-- level 2 entry
h:w64(c2, c3 | 3)
local kinds = {}
for _ in h.t:mappings("00:05.0", nil, { on_finding = function(fd) kinds[fd.kind] = true end }) do end
ok(kinds.cycle or kinds.reserved or kinds.invalid, "a cyclic table is reported, not followed forever")
-- a pointer outside memory
local e4 = h.t:translate("00:05.0", 0).steps[3].entry_addr
h:w64(e4, 0x7f00000000 | 3)
local outside = false
for _ in h.t:mappings("00:05.0", nil, { on_finding = function(fd) outside = outside or fd.kind == "outside" end }) do end
ok(outside, "a table pointer outside memory is a finding")

check.done()
