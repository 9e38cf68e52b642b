// SPDX-License-Identifier: MIT
/*
 * The live backend: the best way into this host that the kernel allows,
 * tried in a fixed order, and an account of why each earlier way failed.
 *
 *   1. devmem   registers by MMIO and RAM through /dev/mem: everything,
 *               but CONFIG_STRICT_DEVMEM (most distributions) refuses RAM.
 *   2. kcore    RAM through /proc/kcore, registers through /dev/mem (MMIO
 *               is allowed under STRICT_DEVMEM) or debugfs iommu_regset.
 *   3. debugfs  what CONFIG_INTEL_IOMMU_DEBUGFS shows: the tables the
 *               driver walks, no data pages, no fault records.
 *
 * The chosen backend's hooks run with its own private data swapped into
 * the target, so each backend stays unaware of live. The helpers the
 * live-host backends share are in hostfiles.c, so live -> {devmem, kcore,
 * debugfs} -> {hostfiles, mmio, fileio} is a tree.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <iommush/vtd/dmar.h>

#include "backends.h"

/* --- the backend --- */

struct live_priv {
	const struct ish_backend *impl;
	void *impl_priv;
	char *choice;
	char why[256];		/* live_write_refusal's answer */
};

/* Which backend live chose and why, then what the chosen one says. */
static void live_describe(struct ish_target *t, ish_describe_fn *fn, void *arg)
{
	struct live_priv *lp = ish_target_priv(t);

	if (!lp)
		return;
	if (lp->choice)
		fn(arg, &(struct ish_describe_item){ .key = "choice", .text = lp->choice });
	if (lp->impl && lp->impl->describe) {
		ish_target_set_priv(t, lp->impl_priv);
		lp->impl->describe(t, fn, arg);
		ish_target_set_priv(t, lp);
	}
}

/* Runs the chosen backend's hook with its private data in place. */
#define LIVE_CALL(t, hook, ...)                                          \
	({                                                               \
		struct live_priv *lp_ = ish_target_priv(t);              \
		struct ish_error *e_;                                    \
		ish_target_set_priv(t, lp_->impl_priv);                  \
		e_ = lp_->impl->hook(t, __VA_ARGS__);                    \
		lp_->impl_priv = ish_target_priv(t);                     \
		ish_target_set_priv(t, lp_);                             \
		e_;                                                      \
	})

/* LIVE_CALL for a hook that returns a pointer. */
#define LIVE_CALL_PTR(t, hook, ...)                                      \
	({                                                               \
		struct live_priv *lp_ = ish_target_priv(t);              \
		const char *r_;                                          \
		ish_target_set_priv(t, lp_->impl_priv);                  \
		r_ = lp_->impl->hook(t, __VA_ARGS__);                    \
		lp_->impl_priv = ish_target_priv(t);                     \
		ish_target_set_priv(t, lp_);                             \
		r_;                                                      \
	})

static bool live_detect(const char *spec)
{
	return !strcmp(spec, "live");
}

static void live_close(struct ish_target *t)
{
	struct live_priv *lp = ish_target_priv(t);

	if (!lp)
		return;
	if (lp->impl && lp->impl->close) {
		ish_target_set_priv(t, lp->impl_priv);
		lp->impl->close(t);
	}
	ish_target_set_priv(t, NULL);
	free(lp->choice);
	free(lp);
}

static const struct ish_backend *const live_order[] = {
	&ish_backend_devmem,
	&ish_backend_kcore,
	&ish_backend_debugfs,
};

/*
 * "kcore: " + msg for the account of failures, where a refusal already told
 * (kcore's registers fail as devmem's did) is named, not repeated.
 */
static int account(char **ret, const char *why, const char *name, const char *msg,
		   const char *first, const char *first_name)
{
	const char *at = first && *first ? strstr(msg, first) : NULL;

	if (!at)
		return asprintf(ret, "%s%s%s: %s", why ? why : "", why ? "; " : "", name, msg);
	return asprintf(ret, "%s%s%s: %.*s(as %s)%s", why ? why : "", why ? "; " : "", name,
			(int)(at - msg), msg, first_name, at + strlen(first));
}

static struct ish_error *live_open(struct ish_target *t, const char *spec)
{
	struct live_priv *lp = calloc(1, sizeof(*lp));
	char *why = NULL;	/* the failures so far, "devmem: ...; kcore: ..." */
	char *first = NULL;	/* the first way's refusal */
	const char *first_name = NULL;
	struct ish_error *err = NULL;

	(void)spec;
	if (!lp)
		return &ish_enomem;
	for (size_t i = 0; i < sizeof(live_order) / sizeof(*live_order); i++) {
		const struct ish_backend *b = live_order[i];
		char *n;
		int r;

		ish_target_set_priv(t, NULL);
		err = b->open(t, b->name);
		if (!err) {
			const char *what = "registers and RAM";
			void *priv = ish_target_priv(t);

			if (b == &ish_backend_kcore && !strcmp(ish_kcore_regs_from(t, priv), "kernel"))
				what = "RAM through kcore, registers from the kernel's own copies "
				       "(struct intel_iommu, no MMIO)";
			else if (b == &ish_backend_kcore)
				what = !strcmp(ish_kcore_regs_from(t, priv), "devmem") ?
				       "RAM through kcore, registers through devmem" :
				       "RAM through kcore, registers through debugfs iommu_regset";
			else if (b == &ish_backend_debugfs)
				what = "the tables debugfs shows, registers from iommu_regset";
			lp->impl = b;
			lp->impl_priv = priv;
			r = asprintf(&lp->choice, "%s: %s%s%s%s", b->name, what, why ? " (" : "",
				     why ? why : "", why ? ")" : "");
			free(why);
			free(first);
			ish_target_set_priv(t, lp);
			if (r < 0) {
				lp->choice = NULL;
				live_close(t);
				return &ish_enomem;
			}
			return NULL;
		}
		/* Out of memory or too many units is no reason to try another way. */
		if (err->code == ISH_ERROR_NOMEM || err->code == ISH_ERROR_LIMIT ||
		    ish_target_nunits(t)) {
			free(why);
			free(first);
			free(lp);
			return err;
		}
		r = account(&n, why, b->name, err->message, first, first_name);
		if (r >= 0 && !first) {
			first = strdup(err->message);
			first_name = b->name;
		}
		ish_error_destroy(err);
		free(why);
		if (r < 0) {
			free(first);
			free(lp);
			return &ish_enomem;
		}
		why = n;
	}
	err = ish_error_format(ISH_ERROR_UNSUPPORTED, "no way into this host works: %s", why);
	free(first);
	free(why);
	free(lp);
	return err;
}

static struct ish_error *live_read_phys(struct ish_target *t, uint64_t addr, void *buf, size_t len)
{
	return LIVE_CALL(t, read_phys, addr, buf, len);
}

static struct ish_error *live_read_reg(struct ish_target *t, const struct ish_unit *u,
				       uint32_t offset, unsigned width, uint64_t *ret)
{
	return LIVE_CALL(t, read_reg, u, offset, width, ret);
}

static struct ish_error *live_read_config(struct ish_target *t, uint16_t segment, uint16_t bdf,
				       uint32_t offset, unsigned width, uint32_t *ret)
{
	return LIVE_CALL(t, read_config, segment, bdf, offset, width, ret);
}

static struct ish_error *live_pci_functions(struct ish_target *t, ish_pci_ident_fn *fn, void *arg)
{
	return LIVE_CALL(t, pci_functions, fn, arg);
}

static struct ish_error *live_write_phys(struct ish_target *t, uint64_t addr, const void *buf,
				       size_t len)
{
	struct live_priv *lp = ish_target_priv(t);

	if (!lp->impl->write_phys)
		return ish_error_format(ISH_ERROR_UNSUPPORTED, "live chose %s, which cannot write memory",
					lp->impl->name);
	return LIVE_CALL(t, write_phys, addr, buf, len);
}

static struct ish_error *live_write_reg(struct ish_target *t, const struct ish_unit *u,
					uint32_t offset, unsigned width, uint64_t value)
{
	struct live_priv *lp = ish_target_priv(t);

	if (!lp->impl->write_reg)
		return ish_error_format(ISH_ERROR_UNSUPPORTED,
					"live chose %s, which cannot write registers", lp->impl->name);
	return LIVE_CALL(t, write_reg, u, offset, width, value);
}

/* The chosen backend's reason, said as live's. */
static const char *live_write_refusal(struct ish_target *t, bool reg)
{
	struct live_priv *lp = ish_target_priv(t);
	const char *why = NULL;

	if (!lp || !lp->impl)
		return NULL;
	if (lp->impl->write_refusal)
		why = LIVE_CALL_PTR(t, write_refusal, reg);
	if (!why && !(reg ? (const void *)lp->impl->write_reg : (const void *)lp->impl->write_phys))
		why = "it has no way to write them";
	if (!why)
		return NULL;
	snprintf(lp->why, sizeof(lp->why), "live chose %s: ", lp->impl->name);
	/* The backends' reasons are static strings: the prefix is what fits. */
	if (strlen(lp->why) + strlen(why) < sizeof(lp->why)) {
		strcat(lp->why, why);
		return lp->why;
	}
	return why;
}

static struct ish_error *live_vmcoreinfo(struct ish_target *t, char **ret, size_t *len,
				       const char **where)
{
	struct live_priv *lp = ish_target_priv(t);

	if (!lp->impl->vmcoreinfo)
		return ish_error_format(ISH_ERROR_UNSUPPORTED, "live chose %s, which has no VMCOREINFO",
					lp->impl->name);
	return LIVE_CALL(t, vmcoreinfo, ret, len, where);
}

static struct ish_error *live_ram_ranges(struct ish_target *t, struct ish_ram_range **ret,
					 size_t *n)
{
	struct live_priv *lp = ish_target_priv(t);

	if (!lp->impl->ram_ranges)
		return ish_error_format(ISH_ERROR_UNSUPPORTED, "live chose %s, which does not list RAM",
					lp->impl->name);
	return LIVE_CALL(t, ram_ranges, ret, n);
}

/* The union of the parameters of the backends live may choose, with their defaults. */
static const struct ish_param_def live_params[] = {
	{ "devmem.path", ISH_DEVMEM_PATH_DEFAULT, "physical memory device" },
	{ "kcore.path", ISH_KCORE_PATH_DEFAULT, "the kernel's ELF core" },
	{ "kcore.regs", "auto", "kcore's registers: auto, devmem, debugfs or a register FILE" },
	{ "kcore.page_offset", "auto", "direct-map base when kcore's p_paddr is not set" },
	{ "debugfs.root", ISH_DEBUGFS_ROOT_DEFAULT, "directory of the Intel IOMMU debugfs files" },
	{ "acpi.dmar", ISH_ACPI_DMAR_DEFAULT, "the ACPI DMAR table" },
	{ "lockdown.path", ISH_LOCKDOWN_PATH_DEFAULT, "kernel lockdown state, to explain a refusal" },
	ISH_HOSTPCI_PARAM,
	{ NULL, NULL, NULL },
};

const struct ish_backend ish_backend_live = {
	.name = "live",
	.help = "this host: devmem, else kcore (+devmem or debugfs registers), else debugfs",
	.params = live_params,
	.flags = ISH_BACKEND_NOCACHE | ISH_BACKEND_LIVE | ISH_BACKEND_KERNEL_UNITS,
	.detect = live_detect,
	.open = live_open,
	.close = live_close,
	.read_phys = live_read_phys,
	.write_phys = live_write_phys,
	.read_reg = live_read_reg,
	.read_config = live_read_config,
	.pci_functions = live_pci_functions,
	.write_reg = live_write_reg,
	.write_refusal = live_write_refusal,
	.vmcoreinfo = live_vmcoreinfo,
	.ram_ranges = live_ram_ranges,
	.describe = live_describe,
};
