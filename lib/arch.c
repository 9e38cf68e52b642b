// SPDX-License-Identifier: MIT
/*
 * The registry of IOMMU architectures (iommush/arch.h). One row per
 * architecture; the first is the default for targets without a firmware
 * table.
 */
#include <stdio.h>
#include <string.h>

#include <iommush/arch.h>

extern const struct ish_arch ish_arch_vtd;

const struct ish_arch *const ish_arches[] = {
	&ish_arch_vtd,
	NULL,
};

const struct ish_arch *ish_arch_find(const char *name)
{
	for (size_t i = 0; ish_arches[i]; i++)
		if (!strcmp(ish_arches[i]->name, name))
			return ish_arches[i];
	return NULL;
}

const struct ish_arch *ish_arch_for_table(const void *table, size_t len)
{
	if (!table || len < 4)
		return NULL;
	for (size_t i = 0; ish_arches[i]; i++)
		if (ish_arches[i]->firmware_sig && !memcmp(ish_arches[i]->firmware_sig, table, 4))
			return ish_arches[i];
	return NULL;
}

const char *ish_arch_names(char *buf, size_t len)
{
	size_t used = 0;

	if (!len)
		return buf;
	buf[0] = '\0';
	for (size_t i = 0; ish_arches[i] && used < len; i++) {
		int n = snprintf(buf + used, len - used, "%s%s", i ? ", " : "", ish_arches[i]->name);

		if (n < 0)
			break;
		used += (size_t)n;
	}
	return buf;
}

const char *ish_cover_name(enum ish_cover how)
{
	switch (how) {
	case ISH_COVER_ENDPOINT:
		return "scope";
	case ISH_COVER_BRIDGE:
		return "bridge scope";
	case ISH_COVER_PCI_ALL:
		return "INCLUDE_PCI_ALL";
	case ISH_COVER_ONLY_UNIT:
		return "only unit";
	case ISH_COVER_NONE:
		break;
	}
	return "none";
}
