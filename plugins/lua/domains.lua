-- Example Lua plugin: `domains`, the devices grouped by domain id.
-- Copy it into ~/.config/iommush/plugins/ (or $XDG_CONFIG_HOME/iommush/plugins/,
-- or DATADIR/iommush/plugins/ for every user); iommush loads it at start.
iommu.command {
	name = "domains",
	synopsis = "domains [UNIT]",
	summary = "list domains (DIDs) and their devices (example Lua plugin)",
	help = "Groups the devices with a present context entry by unit and domain id,\n" ..
		"with each domain's translation mode. Devices that share a domain share\n" ..
		"page tables. This command is the example Lua plugin (plugins/lua/domains.lua).",
	complete = "unit",
	target = true,
	fn = function(unit)
		local t = iommu.target()
		local doms, order = {}, {}
		for _, d in ipairs(assert(t:devices())) do
			if not unit or d.unit == unit then
				local key = string.format("%s did %s", d.unit, d.did and tostring(d.did) or "-")
				if not doms[key] then
					doms[key] = { mode = d.mode or "no translation", bdfs = {} }
					order[#order + 1] = key
				end
				table.insert(doms[key].bdfs, d.bdf)
			end
		end
		table.sort(order)
		for _, k in ipairs(order) do
			print(string.format("%-16s %-14s %s", k, doms[k].mode, table.concat(doms[k].bdfs, " ")))
		end
		if #order == 0 then print("no devices") end
		return true
	end,
}
