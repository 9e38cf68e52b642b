-- export: every mapping of every device (and PASID), as CSV or JSON lines.
--   iommush export.lua [--json] [TARGET]      script export [--json]
-- CSV columns: unit,bdf,pasid,iova,hpa,size,page_size,read,write,exec
-- (addresses in hex; pasid empty for requests without PASID). JSON lines
-- carry the same keys with numbers as JSON integers. Streams: nothing is
-- kept in memory.
local iommu = iommu or require "iommu"
local lib = require "ishlib"

local USAGE = "export [--json|--csv] [TARGET]"
local opts, pos = lib.getopt({ ... }, { json = false, csv = false }, USAGE)
local t = lib.target(pos[1])

if not opts.json then print("unit,bdf,pasid,iova,hpa,size,page_size,read,write,exec") end
local n = 0
for _, d in ipairs(assert(t:devices())) do
	for _, s in ipairs(lib.spaces(t, d)) do
		for m in lib.mappings(t, s) do
			n = n + 1
			if opts.json then
				print(iommu.json({ unit = d.unit, bdf = d.bdf, pasid = s.pasid, iova = m.iova, hpa = m.hpa,
					size = m.size, page_size = m.page_size, read = m.read, write = m.write,
					exec = m.exec }, { unsigned = true }))
			else
				print(string.format("%s,%s,%s,0x%x,0x%x,0x%x,0x%x,%d,%d,%d", d.unit, d.bdf,
					s.pasid and tostring(s.pasid) or "", m.iova, m.hpa, m.size, m.page_size,
					m.read and 1 or 0, m.write and 1 or 0, m.exec and 1 or 0))
			end
		end
	end
end
return true
