-- Builds VT-d images in the mem backend, from Lua, for the tests.
-- Bit positions: Intel VT-d 5.0 chapter 9 (root 9.1/9.2, context 9.3/9.4,
-- PASID directory 9.5, PASID entry 9.6, second-level entries 9.8, IRTE 9.10)
-- and 11.4 (registers).
local iommu = iommu or require "iommu"

local M = {}

M.BASE = 0xfed90000
M.RAM = 64 << 20

-- CAP: ND=2, SAGAW 39/48-bit (bits 9,10), MGAW 47, FRO 0x22 (0x220), SLLPS 2M+1G, NFR 3 (4 records)
M.CAP = 2 | (0x6 << 8) | (47 << 16) | (0x22 << 24) | (3 << 34) | (3 << 40)
-- ECAP: QI, IR, PT, SC, IRO 0x20 (0x200)
M.ECAP = (1 << 1) | (1 << 3) | (1 << 6) | (1 << 7) | (0x20 << 8)
-- scalable: + PASID (40), PSS 19 (39:35), SMTS (43), SLTS (46), FLTS (47)
M.ECAP_SM = M.ECAP | (1 << 40) | (19 << 35) | (1 << 43) | (1 << 46) | (1 << 47)

M.TES, M.RTPS, M.QIES, M.IRES, M.IRTPS = 1 << 31, 1 << 30, 1 << 26, 1 << 25, 1 << 24

local Image = {}
Image.__index = Image

-- opts.scalable, opts.te (default true)
function M.new(opts)
	opts = opts or {}
	local t = assert(iommu.mem())
	assert(t:add_ram(0, M.RAM))
	local u = assert(t:add_unit(M.BASE))
	local img = setmetatable({ t = t, unit = u, next = 0x100000, scalable = opts.scalable,
		ctx = {}, roots = {} }, Image)
	img.root = img:alloc()
	t:set_reg(u, "VER", 0x10)
	t:set_reg(u, "CAP", M.CAP)
	t:set_reg(u, "ECAP", opts.scalable and M.ECAP_SM or M.ECAP)
	img:set_gsts((opts.te == false and 0 or M.TES) | M.RTPS)
	t:set_reg(u, "RTADDR", img.root | (opts.scalable and (1 << 10) or 0))
	t:set_reg(u, "FSTS", 0)
	t:set_reg(u, "FECTL", 0)
	t:set_reg(u, "IQA", 0)
	t:set_reg(u, "IQH", 0)
	t:set_reg(u, "IQT", 0)
	t:set_reg(u, "IRTA", 0)
	for i = 0, 3 do
		t:set_reg(u, 0x220 + 16 * i, 0, 64)
		t:set_reg(u, 0x228 + 16 * i, 0, 64)
	end
	return img
end

function Image:set_gsts(v)
	self.gsts = v
	self.t:set_reg(self.unit, "GSTS", v)
end

function Image:alloc(n)
	local p = self.next
	self.next = p + 0x1000 * (n or 1)
	assert(self.next <= M.RAM, "image RAM exhausted")
	return p
end

function Image:w64(addr, v) assert(self.t:write64(addr, v)) end
function Image:r64(addr) return assert(self.t:read64(addr)) end

local function split(bdf)
	local _, rid = iommu.bdf(bdf)
	return rid >> 8, rid & 0xff
end

-- The context entry address for bdf, creating the root entry and context table.
function Image:context_addr(bdf)
	local bus, devfn = split(bdf)
	if self.scalable then
		local upper = devfn >= 128 and 1 or 0
		local key = bus * 2 + upper
		if not self.ctx[key] then
			self.ctx[key] = self:alloc()
			local raddr = self.root + bus * 16 + upper * 8
			self:w64(raddr, self.ctx[key] | 1)
		end
		return self.ctx[key] + (devfn % 128) * 32
	end
	if not self.ctx[bus] then
		self.ctx[bus] = self:alloc()
		self:w64(self.root + bus * 16, self.ctx[bus] | 1)
	end
	return self.ctx[bus] + devfn * 16
end

-- Legacy device: opts.tt (0 multi-level, 2 pass-through), opts.did, opts.fpd,
-- opts.levels (3, 4). Returns the second-level root table.
function Image:device(bdf, opts)
	opts = opts or {}
	local ca = self:context_addr(bdf)
	local levels = opts.levels or 4
	local slpt = opts.tt == 2 and 0 or self:alloc()
	self:w64(ca, slpt | ((opts.tt or 0) << 2) | ((opts.fpd and 1 or 0) << 1) | 1)
	self:w64(ca + 8, (levels - 2) | ((opts.did or 1) << 8))
	return { root = slpt, levels = levels }
end

-- Scalable device: a PASID directory and table; RID_PASID 0.
-- opts.pgtt (2 SL-only, 4 pass-through), opts.did, opts.fpd. Returns the SL table
-- of the RID_PASID entry.
function Image:sm_device(bdf, opts)
	opts = opts or {}
	local ca = self:context_addr(bdf)
	local dir = self:alloc()
	-- PDTS 0: 2^7 directory entries; PASIDE: requests with PASID are allowed
	self:w64(ca, dir | (1 << 3) | ((opts.fpd and 1 or 0) << 1) | 1)	-- PASIDE
	self:w64(ca + 8, 0)
	local dev = { dir = dir, tables = {} }
	dev.sl = self:sm_pasid(dev, 0, opts)
	return dev
end

function Image:sm_pasid(dev, pasid, opts)
	opts = opts or {}
	local di = pasid >> 6
	if not dev.tables[di] then
		dev.tables[di] = self:alloc()
		self:w64(dev.dir + di * 8, dev.tables[di] | 1)
	end
	local pe = dev.tables[di] + (pasid & 63) * 64
	local pgtt = opts.pgtt or 2
	local sl = pgtt == 4 and 0 or self:alloc()
	self:w64(pe, sl | ((opts.slee and 1 or 0) << 5) | (pgtt << 6) | (2 << 2) | ((opts.fpd and 1 or 0) << 1) | 1)
	self:w64(pe + 8, opts.did or 1)
	self:w64(pe + 16, 0)
	return { root = sl, levels = 4 }
end

-- Map [iova, iova + size) to hpa in a second-level table with pages of
-- page_size (4K, 2M, 1G). perms: "r", "rw", "rwx".
function Image:map(tab, iova, hpa, size, perms, page_size)
	page_size = page_size or 0x1000
	local leaf_level = page_size == 0x1000 and 1 or page_size == 0x200000 and 2 or 3
	local p = (perms:find("r") and 1 or 0) | (perms:find("w") and 2 or 0) | (perms:find("x") and 4 or 0)
	for off = 0, size - 1, page_size do
		local va, table_addr = iova + off, tab.root
		for level = tab.levels, leaf_level + 1, -1 do
			local idx = (va >> (12 + 9 * (level - 1))) & 511
			local ea = table_addr + idx * 8
			local e = self:r64(ea)
			-- non-leaf entries grant R/W, and X only where a leaf below needs it
			-- (with SLEE=0 the bit is not X)
			local x = p & 4
			if e & 3 == 0 then
				local n = self:alloc()
				self:w64(ea, n | 3 | x)
				table_addr = n
			else
				if x ~= 0 and e & 4 == 0 then self:w64(ea, e | 4) end
				table_addr = e & 0x000ffffffffff000
			end
		end
		local idx = (va >> (12 + 9 * (leaf_level - 1))) & 511
		self:w64(table_addr + idx * 8, (hpa + off) | p | (leaf_level > 1 and 0x80 or 0))
	end
end

-- Interrupt remapping: a table of 2^(s+1) entries; IRTA and IRES/IRTPS set.
function Image:irt(s)
	s = s or 7
	self.irt_addr = self:alloc(((1 << (s + 1)) * 16 + 0xfff) // 0x1000)
	self.t:set_reg(self.unit, "IRTA", self.irt_addr | s)
	self:set_gsts(self.gsts | M.IRES | M.IRTPS)
	return self.irt_addr
end

-- opts.vector, opts.dest (xAPIC id), opts.sid, opts.svt (default 1), opts.sq
function Image:irte(index, opts)
	local lo = 1 | ((opts.vector or 0x30) << 16) | ((opts.dest or 0) << 40) | ((opts.fpd and 1 or 0) << 1)
	local hi = (opts.sid or 0) | ((opts.sq or 0) << 16) | ((opts.svt or 1) << 18)
	self:w64(self.irt_addr + index * 16, lo)
	self:w64(self.irt_addr + index * 16 + 8, hi)
end

-- A fault record in FRCD index: reason, sid, addr, read.
function Image:fault(index, reason, sid, addr, read)
	self.t:set_reg(self.unit, 0x220 + 16 * index, addr, 64)
	self.t:set_reg(self.unit, 0x228 + 16 * index,
		(1 << 63) | ((read and 1 or 0) << 62) | (reason << 32) | sid, 64)
	self.t:set_reg(self.unit, "FSTS", 2 | (index << 8))
end

-- An invalidation queue of one page with descriptors (pairs of qwords) from slot 0.
function Image:iq(descs)
	local base = self:alloc()
	for i, d in ipairs(descs) do
		self:w64(base + (i - 1) * 16, d[1])
		self:w64(base + (i - 1) * 16 + 8, d[2])
	end
	self.iq_addr = base
	self.t:set_reg(self.unit, "IQA", base)
	self.t:set_reg(self.unit, "IQH", 0)
	self.t:set_reg(self.unit, "IQT", #descs * 16)
	self:set_gsts(self.gsts | M.QIES)
	return base
end

-- An ACPI DMAR table: one DRHD (INCLUDE_PCI_ALL) at BASE and the RMRRs given as
-- { base =, limit =, devices = { "00:02.0", ... } }.
function M.dmar(rmrrs)
	local body = {}
	body[#body + 1] = string.pack("<I2I2BBI2I8", 0, 16, 1, 0, 0, M.BASE)
	for _, r in ipairs(rmrrs or {}) do
		local scopes = {}
		for _, d in ipairs(r.devices) do
			local bus, devfn = split(d)
			scopes[#scopes + 1] = string.pack("<BBBBBBBB", 1, 8, 0, 0, 0, bus, devfn >> 3, devfn & 7)
		end
		local s = table.concat(scopes)
		body[#body + 1] = string.pack("<I2I2I2I2I8I8", 1, 24 + #s, 0, 0, r.base, r.limit) .. s
	end
	local b = table.concat(body)
	local len = 48 + #b
	local function hdr(sum)
		return string.pack("<c4I4BBc6c8I4c4I4BBc10", "DMAR", len, 1, sum, "ISHTST", "IOMMUSH ",
			1, "ISH ", 1, 47, 1, string.rep("\0", 10))
	end
	local sum = 0
	for c in (hdr(0) .. b):gmatch(".") do sum = sum + c:byte() end
	return hdr((256 - sum % 256) % 256) .. b
end

-- Checks, counted; check.done() exits non-zero on any failure.
local check = { failed = 0, passed = 0 }
M.check = check

local function fmt(v)
	if math.type(v) == "integer" then return string.format("%d (0x%x)", v, v) end
	return tostring(v)
end

function check.ok(cond, what)
	if cond then
		check.passed = check.passed + 1
	else
		check.failed = check.failed + 1
		print("FAILED: " .. what .. "\n" .. debug.traceback("", 2))
	end
	return cond
end

function check.eq(got, want, what)
	return check.ok(got == want, string.format("%s: got %s, want %s", what, fmt(got), fmt(want)))
end

-- A call that must raise, with msg in the error.
function check.raises(f, msg, what)
	local ok, err = pcall(f)
	return check.ok(not ok and tostring(err):find(msg, 1, true) ~= nil,
		string.format("%s: raises '%s' (got %s, %s)", what, msg, tostring(ok), tostring(err)))
end

-- A call that must return nil, message, code.
function check.fails(code, what, ...)
	local v, msg, c = ...
	return check.ok(v == nil and type(msg) == "string" and c == code,
		string.format("%s: want nil, msg, '%s'; got %s, %s, %s", what, code, tostring(v), tostring(msg), tostring(c)))
end

function check.done()
	print(string.format("%d passed, %d failed", check.passed, check.failed))
	if check.failed > 0 then os.exit(1) end
end

return M
