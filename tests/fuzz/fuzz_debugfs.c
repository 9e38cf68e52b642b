// SPDX-License-Identifier: MIT
/*
 * The debugfs backend (backends/debugfs.c): every text format under
 * iommu/intel/. The input is cut at 0xff bytes into files, the n-th piece
 * going to the n-th name below (both the pre-6.7 single
 * domain_translation_struct and the 6.7+ per-device layout), in a private
 * temporary directory; the backend opens it and every walker runs over the
 * image it rebuilt. acpi.dmar points into that directory, never at the host.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <iommush/vtd/iq.h>
#include <iommush/vtd/irte.h>
#include <iommush/target.h>
#include <iommush/walk.h>

#include "fuzz.h"

static const char *const names[] = {
	"iommu_regset",
	"dmar_translation_struct",
	"domain_translation_struct",
	"ir_translation_struct",
	"invalidation_queue",
	"0000:00:02.0/domain_translation_struct",
	"0000:00:02.0/1/domain_translation_struct",
};

static char dir[64];
static volatile uint64_t sink;

static void write_file(const char *name, const uint8_t *p, size_t n)
{
	char path[256];
	int fd;

	/* Create each directory on the way ("0000:00:02.0/1/..."). */
	for (const char *slash = strchr(name, '/'); slash; slash = strchr(slash + 1, '/')) {
		snprintf(path, sizeof(path), "%s/%.*s", dir, (int)(slash - name), name);
		mkdir(path, 0700);
	}
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		return;
	if (write(fd, p, n) < 0)
		sink++;
	close(fd);
}

static void clear_dir(const char *path, int depth)
{
	DIR *d = opendir(path);
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d))) {
		char sub[512];

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", path, e->d_name);
		if (depth < 3)
			clear_dir(sub, depth + 1);
		if (remove(sub))
			sink++;
	}
	closedir(d);
}

static struct ish_error *on_mapping(void *arg, const struct ish_mapping *m)
{
	(void)arg;
	sink += m->iova ^ m->hpa;
	return NULL;
}

static struct ish_error *on_finding(void *arg, const struct ish_finding *f)
{
	(void)arg;
	sink += f->kind;
	return NULL;
}

static struct ish_error *on_device(void *arg, const struct ish_device *d)
{
	struct ish_target *t = arg;
	struct ish_translation *tr = malloc(sizeof(*tr));

	ish_error_destroy(ish_mappings(t, (int)d->unit, d->bdf, ISH_PASID_NONE, 0, ~0ULL, on_mapping,
				       on_finding, NULL, NULL, NULL));
	if (tr) {
		ish_error_destroy(ish_translate(t, (int)d->unit, d->bdf, ISH_PASID_NONE, 0x1000, 0, tr));
		free(tr);
	}
	return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char root[96], dmar[128];
	struct ish_param params[] = {
		{ "debugfs.root", root },
		{ "acpi.dmar", dmar },
		{ "walk.max_pages", "64" },
		{ "walk.max_mappings", "256" },
	};
	struct ish_target *t = NULL;
	struct ish_error *err;
	size_t start = 0, piece = 0;

	if (!dir[0]) {
		snprintf(dir, sizeof(dir), "/dev/shm/ish-fuzz-debugfs-XXXXXX");
		if (!mkdtemp(dir)) {
			snprintf(dir, sizeof(dir), "/tmp/ish-fuzz-debugfs-XXXXXX");
			if (!mkdtemp(dir))
				abort();
		}
	}
	clear_dir(dir, 0);
	for (size_t i = 0; i <= size && piece < sizeof(names) / sizeof(names[0]); i++) {
		if (i == size || data[i] == 0xff) {
			write_file(names[piece++], data + start, i - start);
			start = i + 1;
		}
	}
	snprintf(root, sizeof(root), "%s", dir);
	snprintf(dmar, sizeof(dmar), "%s/no-dmar", dir);
	err = ish_target_open(root, "debugfs", params, sizeof(params) / sizeof(params[0]), 0, &t);
	if (err) {
		sink += strlen(err->message);
		ish_error_destroy(err);
		return 0;
	}
	ish_error_destroy(ish_devices(t, true, on_device, on_finding, t));
	for (unsigned u = 0; u < ish_target_nunits(t); u++) {
		struct ish_ir_state ir;
		struct ish_iq_state q;

		if (!(err = ish_ir_state_read(t, u, &ir))) {
			for (uint32_t i = 0; i < ir.irta.entries && i < 64; i++) {
				struct ish_irte e;

				ish_error_destroy(ish_irte_read(t, &ir, i, &e));
			}
		}
		ish_error_destroy(err);
		if (!(err = ish_iq_state_read(t, u, &q))) {
			for (uint32_t s = 0; s < q.nslots && s < 64; s++) {
				struct ish_qi_desc d;

				ish_error_destroy(ish_iq_read_slot(t, &q, s, &d));
			}
		}
		ish_error_destroy(err);
	}
	ish_target_close(t);
	return 0;
}
