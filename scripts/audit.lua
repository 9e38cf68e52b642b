-- audit: what a DMA-capable device could do that it should not.
--   iommush TARGET -f audit.lua        iommush audit.lua [--json] [TARGET]
--   script audit [--json]              lua5.4 audit.lua TARGET (with the iommu module)
-- One finding per line: SEVERITY CHECK SUBJECT: MESSAGE. Exit status 1 when
-- there are findings. Checks (see iommush-lua(7)):
--   self-write        critical  a writable mapping reaches an IOMMU structure (root,
--                               context, PASID, page tables, IRT, IQ): the device can
--                               rewrite its own translation
--   translation-off   high      a unit with devices has translation disabled (TES=0)
--   pass-through      high      a device bypasses translation (TT=2 / PGTT=4)
--   identity          medium    every mapping of a device is identity (iova = hpa), 16 MiB+
--   rmrr-foreign      medium    a device maps an RMRR range not declared for it
--   rmrr-unmapped     medium    an RMRR declared for a device is not identity-mapped
--   write-exec        medium    a mapping is writable and executable
--   irte-no-sid       medium    a present IRTE does not validate the source id (SVT=0)
--   fault-disabled    low       a context (or RID_PASID) entry has FPD=1: faults are dropped
--   kernel-view       high..low the kernel's own state (device_domain_info, dmar_domain) and
--                               the context/RID_PASID entry disagree: detached (high), root
--                               (high), did, mode, levels, pasid-dir, no-kernel-device
--                               (medium), not-present (low). On targets that carry
--                               VMCOREINFO (dumps, /proc/kcore), elsewhere with --kernel.
local iommu = iommu or require "iommu"
local lib = require "ishlib"

local USAGE = "audit [--json] [--kernel] [TARGET]"
local KERNEL_SEVERITY = { detached = "high", root = "high", ["not-present"] = "low" }
local IDENTITY_MIN = 16 << 20
local SEVERITY = { critical = 1, high = 2, medium = 3, low = 4 }

local function audit(t, opts)
	opts = opts or {}
	local findings = {}
	local function add(sev, check, subject, msg)
		findings[#findings + 1] = { severity = sev, check = check, subject = subject, message = msg }
	end

	local devices = assert(t:devices())
	local per_unit = {}
	for _, d in ipairs(devices) do per_unit[d.unit] = (per_unit[d.unit] or 0) + 1 end

	for _, u in ipairs(t:units()) do
		local st = u:state()
		if st and not st.translation_enabled and (per_unit[u.name] or 0) > 0 then
			add("high", "translation-off", u.name, string.format(
				"translation is disabled (GSTS.TES=0) but %d device(s) have context entries: their DMA is not remapped",
				per_unit[u.name]))
		end
	end

	-- RMRRs from the DMAR table: { base, limit, devices = { [bdf] = true } }
	local rmrrs = {}
	local dmar = t:dmar()
	for _, s in ipairs(dmar and dmar.structs or {}) do
		if s.type == "RMRR" then
			local r = { base = s.base, limit = s.limit, devices = {} }
			for _, sc in ipairs(s.scopes) do
				if sc.bdf then r.devices[sc.bdf] = true end
			end
			rmrrs[#rmrrs + 1] = r
		end
	end

	-- Pass one, recorded: every page the walks read is an IOMMU structure.
	local spaces = {}
	local pages = t:record(function()
		for _, d in ipairs(devices) do
			local subject = d.bdf
			if d.fpd then
				add("low", "fault-disabled", subject, "context entry has FPD=1: its faults are not recorded")
			elseif d.rid_pasid_fpd then
				add("low", "fault-disabled", subject, "RID_PASID entry has FPD=1: its faults are not recorded")
			end
			if d.pass_through then
				add("high", "pass-through", subject,
					"translation is bypassed (pass-through): the device reaches all memory, IOMMU structures included")
			end
			for _, s in ipairs(lib.spaces(t, d)) do
				spaces[#spaces + 1] = s
				local label = s.pasid and (subject .. " pasid " .. s.pasid) or subject
				local n, total, identity, wx = 0, 0, true, 0
				for m in lib.mappings(t, s) do
					if not m.pass_through then
						n = n + 1
						total = total + m.size
						if m.iova ~= m.hpa then identity = false end
						if m.write and m.exec then
							wx = wx + 1
							if wx <= 3 then
								add("medium", "write-exec", label, lib.describe_mapping(m) .. " is writable and executable")
							end
						end
						for _, r in ipairs(rmrrs) do
							local last = m.hpa + m.size - 1
							if not r.devices[d.bdf] and not math.ult(last, r.base) and not math.ult(r.limit, m.hpa) then
								add("medium", "rmrr-foreign", label, string.format(
									"%s overlaps RMRR %s-%s, which is not declared for this device",
									lib.describe_mapping(m), lib.hex(r.base), lib.hex(r.limit)))
							end
						end
					end
				end
				if wx > 3 then
					add("medium", "write-exec", label, string.format("%d more writable and executable mappings", wx - 3))
				end
				if n > 0 and identity and total >= IDENTITY_MIN then
					add("medium", "identity", label, string.format(
						"all %d mappings are identity (iova = hpa), %s bytes: no isolation from the rest of memory",
						n, lib.hex(total)))
				end
			end
		end
		for _, r in ipairs(rmrrs) do
			for bdf in pairs(r.devices) do
				for _, d in ipairs(devices) do
					if d.bdf == bdf then
						for _, a in ipairs({ r.base, r.limit & ~0xfff }) do
							local tr = t:translate(bdf, a)
							if tr and (tr.fault or tr.hpa ~= a) then
								add("medium", "rmrr-unmapped", bdf, string.format(
									"RMRR %s-%s is declared for it but %s is %s", lib.hex(r.base),
									lib.hex(r.limit), lib.hex(a),
									tr.fault and ("not mapped (" .. tr.fault.text .. ")") or ("mapped to " .. lib.hex(tr.hpa))))
								break
							end
						end
					end
				end
			end
		end
	end)
	assert(pages, "recording failed")

	-- Tables the walks do not read whole: the interrupt remapping table and the queue.
	local ranges = {}
	for _, p in ipairs(pages) do ranges[#ranges + 1] = { p, p + 0xfff, "table page" } end
	for _, u in ipairs(t:units()) do
		local st = u:state()
		if st then ranges[#ranges + 1] = { st.root_table, st.root_table + 0xfff, "root table of " .. u.name } end
		local irta = u:reg("IRTA")
		local gsts = u:reg("GSTS")
		if irta and gsts and (gsts.fields.IRES == 1 or gsts.fields.IRTPS == 1) then
			local base = irta.value & ~0xfff
			local size = (1 << ((irta.value & 0xf) + 1)) * 16
			ranges[#ranges + 1] = { base, base + size - 1, "interrupt remapping table of " .. u.name }
		end
		local iqa = u:reg("IQA")
		if iqa and gsts and gsts.fields.QIES == 1 then
			local base = iqa.value & ~0xfff
			ranges[#ranges + 1] = { base, base + (0x1000 << (iqa.value & 7)) - 1, "invalidation queue of " .. u.name }
		end
	end
	table.sort(ranges, function(a, b) return math.ult(a[1], b[1]) end)

	-- The first structure range that [lo, hi] overlaps, or nil.
	local function hit(lo, hi)
		local a, b = 1, #ranges
		while a <= b do	-- first range whose end is >= lo
			local mid = (a + b) // 2
			if math.ult(ranges[mid][2], lo) then a = mid + 1 else b = mid - 1 end
		end
		for i = a, #ranges do
			local r = ranges[i]
			if math.ult(hi, r[1]) then return nil end
			if not math.ult(r[2], lo) then return r end
		end
		return nil
	end

	-- Pass two: writable mappings against the structures.
	for _, s in ipairs(spaces) do
		local label = s.pasid and (s.bdf .. " pasid " .. s.pasid) or s.bdf
		local shown = 0
		for m in lib.mappings(t, s) do
			if m.write and not m.pass_through then
				local r = hit(m.hpa, m.hpa + m.size - 1)
				if r and shown < 3 then
					shown = shown + 1
					add("critical", "self-write", label, string.format(
						"%s can write the %s at %s: the device can rewrite IOMMU state",
						lib.describe_mapping(m), r[3], lib.hex(r[1])))
				end
			end
		end
	end

	for key, e in pairs(lib.irtes(t)) do
		if e.svt == 0 then
			add("medium", "irte-no-sid", key, string.format(
				"IRTE (vector 0x%x) does not validate the source id (SVT=0): any device can raise it", e.vector))
		end
	end

	-- The kernel's view against the tables: only where the kernel is at hand
	-- (a note), or asked for (a gdbstub target: a scan of RAM).
	if opts.kernel or t:vmcoreinfo() then
		local views, err = t:kernel_devices()
		if not views and opts.kernel then
			add("low", "kernel-view", "kernel", "the kernel's view is not available: " .. tostring(err))
		end
		for _, v in ipairs(views or {}) do
			for _, d in ipairs(v.disagreements) do
				add(KERNEL_SEVERITY[d.kind] or "medium", "kernel-view", v.bdf, d.kind .. ": " .. d.message)
			end
		end
	end

	table.sort(findings, function(a, b)
		if a.severity ~= b.severity then return SEVERITY[a.severity] < SEVERITY[b.severity] end
		if a.check ~= b.check then return a.check < b.check end
		if a.subject ~= b.subject then return a.subject < b.subject end
		return a.message < b.message
	end)
	return findings
end

-- As a module (tests): loadfile("audit.lua")(target) returns the findings.
local args = { ... }
if lib.is_target(args[1]) then return audit(args[1]) end

local opts, pos = lib.getopt(args, { json = false, kernel = false }, USAGE)
local t = lib.target(pos[1])
local findings = audit(t, opts)
for _, f in ipairs(findings) do
	if opts.json then
		print(iommu.json(f))
	else
		print(string.format("%-8s %-15s %s: %s", f.severity, f.check, f.subject, f.message))
	end
end
if not opts.json and #findings == 0 then print("audit: no findings") end
return #findings == 0
