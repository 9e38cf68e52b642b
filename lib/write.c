// SPDX-License-Identifier: MIT
/*
 * The write gate and the write log (contract in include/iommush/write.h).
 *
 * Ownership comes from what Linux publishes for each unit its intel-iommu
 * driver registered (drivers/iommu/intel/iommu.c, attribute group
 * "intel-iommu"): /sys/class/iommu/<name>/intel-iommu/address holds the
 * register base as "%llx\n", next to cap, ecap ("%llx\n") and version
 * ("%d:%d\n"). The names are the driver's ("dmar0"), which need not match
 * the order of the ACPI table, so the base address decides.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <iommush/backend.h>
#include <iommush/vtd/invalidate.h>
#include <iommush/regs.h>
#include <iommush/vtd/vtd.h>

#include "vtd/queue_internal.h"
#include "write_internal.h"

#define MAX_LOGGED_BYTES 64
#define LOG_LINE_MAX 2048

struct ish_write_state {
	ish_confirm_fn *confirm;
	void *confirm_arg;
	unsigned depth;		/* of nested ish_write_begin() */
	char *op;		/* the outermost operation's name */
	int op_unit;		/* its unit, or ISH_WRITE_ALL_UNITS */
	/* Units the kernel's driver owns, found at the outermost begin. */
	bool *owned;
	size_t nowned;
	/* The one IQT write of a cooperative submission (ish_queue_write_tail). */
	bool tail_ok;
	bool log_tried;
	int log_fd;		/* -1: no log file */
	bool syslog;
};

static struct ish_write_state *wstate(struct ish_target *t)
{
	struct ish_write_state **pw = ish_target_wstate(t);

	if (!*pw) {
		*pw = calloc(1, sizeof(**pw));
		if (*pw)
			(*pw)->log_fd = -1;
	}
	return *pw;
}

void ish_write_state_destroy(struct ish_write_state *w)
{
	if (!w)
		return;
	if (w->log_fd >= 0)
		close(w->log_fd);
	free(w->op);
	free(w->owned);
	free(w);
}

void ish_target_set_confirm(struct ish_target *t, ish_confirm_fn *fn, void *arg)
{
	struct ish_write_state *w = wstate(t);

	if (w) {
		w->confirm = fn;
		w->confirm_arg = arg;
	}
}

static bool is_live(const struct ish_target *t)
{
	return ish_target_backend(t)->flags & ISH_BACKEND_LIVE;
}

/* --- the log line --- */

struct sbuf {
	char *p;
	size_t len, n;	/* n: what the whole line needs, as snprintf counts */
};

static void sb_printf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void sb_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vsnprintf(b->n < b->len ? b->p + b->n : NULL, b->n < b->len ? b->len - b->n : 0, fmt,
		      ap);
	va_end(ap);
	if (r > 0)
		b->n += (size_t)r;
}

/* A quoted string: the log is one line per write whatever a spec or message holds. */
static void sb_quoted(struct sbuf *b, const char *s)
{
	sb_printf(b, "\"");
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			sb_printf(b, "\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			sb_printf(b, "\\x%02x", c);
		else
			sb_printf(b, "%c", c);
	}
	sb_printf(b, "\"");
}

static void sb_hex(struct sbuf *b, const uint8_t *p, size_t len)
{
	size_t n = len < MAX_LOGGED_BYTES ? len : MAX_LOGGED_BYTES;

	for (size_t i = 0; i < n; i++)
		sb_printf(b, "%02x", p[i]);
	if (n < len)
		sb_printf(b, "...");
}

int ish_write_log_format(const struct ish_write_record *r, char *buf, size_t len)
{
	struct sbuf b = { buf, len, 0 };
	time_t secs = (time_t)(r->time_ns / 1000000000);
	struct tm tm;
	char when[32];

	if (buf && len)
		buf[0] = '\0';
	if (!gmtime_r(&secs, &tm) || !strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm))
		snprintf(when, sizeof(when), "@%lld", (long long)secs);
	sb_printf(&b, "%s.%06ldZ uid=%lu pid=%ld backend=%s spec=", when,
		  (long)(r->time_ns % 1000000000 / 1000), (unsigned long)r->uid, (long)r->pid,
		  r->backend ? r->backend : "?");
	sb_quoted(&b, r->spec);
	sb_printf(&b, " op=");
	sb_quoted(&b, r->op);
	sb_printf(&b, " unit=%s", r->unit ? r->unit : "-");
	if (r->is_op) {
		/* an operation refused before any particular write */
	} else if (r->is_reg) {
		sb_printf(&b, " reg=%s offset=%#" PRIx32 " width=%u old=", r->reg ? r->reg : "?",
			  r->offset, r->width);
		if (r->have_old)
			sb_printf(&b, "%#" PRIx64, r->old);
		else
			sb_printf(&b, "?");
		sb_printf(&b, " new=%#" PRIx64, r->value);
	} else {
		sb_printf(&b, " mem=%#" PRIx64 " len=%zu old=", r->addr, r->len);
		if (r->old_bytes && r->len)
			sb_hex(&b, r->old_bytes, r->len);
		else
			sb_printf(&b, "?");
		sb_printf(&b, " new=");
		if (r->new_bytes && r->len)
			sb_hex(&b, r->new_bytes, r->len);
	}
	sb_printf(&b, " result=%s", r->result ? r->result : "?");
	if (r->reason) {
		sb_printf(&b, " reason=");
		sb_quoted(&b, r->reason);
	}
	sb_printf(&b, "\n");
	return b.n > (size_t)INT32_MAX ? INT32_MAX : (int)b.n;
}

/* --- log sinks --- */

/* Opens the log file and decides on syslog, once per target. */
static struct ish_error *log_open(struct ish_target *t, struct ish_write_state *w)
{
	const char *path = ish_target_param(t, "write.log");
	const char *sl = ish_target_param(t, "write.syslog");

	if (w->log_tried)
		return NULL;
	if (!sl || !strcmp(sl, "auto"))
		w->syslog = is_live(t);
	else if (!strcmp(sl, "on") || !strcmp(sl, "1") || !strcmp(sl, "yes"))
		w->syslog = true;
	else if (!strcmp(sl, "off") || !strcmp(sl, "0") || !strcmp(sl, "no"))
		w->syslog = false;
	else
		return ish_error_format(ISH_ERROR_INVALID,
					"write.syslog is auto, on or off, not '%s'", sl);
	/* Root on a live host keeps a log by default: that is where it matters. */
	if (!path && is_live(t) && geteuid() == 0)
		path = ISH_WRITE_LOG_DEFAULT;
	if (path && *path) {
		/* O_NOFOLLOW: root appending to a planted symlink would clobber its target. */
		w->log_fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (w->log_fd < 0)
			return ish_error_errno(errno,
					       "cannot open the write log %s (every write is logged; "
					       "set -O write.log=FILE, or write.log= for none)",
					       path);
	}
	if (w->syslog) {
		static bool opened;

		if (!opened)
			openlog("iommush", LOG_PID, LOG_USER);
		opened = true;
	}
	w->log_tried = true;
	return NULL;
}

static bool logging(const struct ish_write_state *w)
{
	return w->log_fd >= 0 || w->syslog;
}

static void log_record(struct ish_target *t, struct ish_write_state *w,
		       struct ish_write_record *r)
{
	struct timespec ts;
	char line[LOG_LINE_MAX];
	int n;

	if (!logging(w))
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	r->time_ns = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
	r->uid = getuid();
	r->pid = getpid();
	r->backend = ish_target_backend(t)->name;
	r->spec = ish_target_spec(t);
	if (!r->op)
		r->op = w->op;
	n = ish_write_log_format(r, line, sizeof(line));
	if (n <= 0)
		return;
	if ((size_t)n >= sizeof(line)) {
		/* Cut, but still one line. */
		n = sizeof(line) - 1;
		line[n - 1] = '\n';
	}
	/* One write(2) per line: O_APPEND keeps concurrent writers' lines whole. */
	if (w->log_fd >= 0 && write(w->log_fd, line, (size_t)n) < 0) {
		/* Nowhere to report it but syslog; the write itself already happened. */
	}
	if (w->syslog) {
		line[n - 1] = '\0';
		syslog(LOG_USER | LOG_NOTICE, "%s", line);
	}
}

static void log_refusal(struct ish_target *t, struct ish_write_state *w, int unit,
			const char *op, const struct ish_error *err)
{
	struct ish_write_record r = { 0 };
	const struct ish_unit *u = unit >= 0 ? ish_target_unit(t, (unsigned)unit) : NULL;

	r.is_op = true;
	r.op = op;
	r.unit = u ? u->name : NULL;
	r.result = "refused";
	r.reason = err->message;
	log_record(t, w, &r);
}

/* --- ownership --- */

static bool read_small(const char *path, char *buf, size_t len)
{
	/* O_NONBLOCK: a FIFO planted in a fake tree must not hang the open. */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	struct stat st;
	ssize_t r;

	if (fd < 0)
		return false;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		close(fd);
		return false;
	}
	r = read(fd, buf, len - 1);
	close(fd);
	if (r <= 0)
		return false;
	buf[r] = '\0';
	return true;
}

/* The register base a sysfs address file holds ("fed90000\n"), or false. */
static bool parse_address(const char *s, uint64_t *ret)
{
	char *end;

	if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f') || (*s >= 'A' && *s <= 'F')))
		return false;
	errno = 0;
	*ret = strtoull(s, &end, 16);
	return !errno && (*end == '\n' || *end == '\0');
}

/*
 * Marks in owned[] every unit whose register base a registered unit has;
 * names[] (may be NULL) gets the sysfs name. False if the directory cannot
 * be listed.
 */
static bool scan_sysfs(struct ish_target *t, bool *owned, char (*names)[256], size_t n)
{
	const char *root = ish_target_param(t, "iommu.sysfs");
	struct dirent *de;
	DIR *d;
	size_t seen = 0;

	if (!root || !*root || !(d = opendir(root)))
		return false;
	/* Bounded: a hostile or huge directory costs at most this many reads. */
	while ((de = readdir(d)) && seen < 4096) {
		char path[4096], buf[64];
		uint64_t base;

		if (de->d_name[0] == '.')
			continue;
		seen++;
		if ((size_t)snprintf(path, sizeof(path), "%s/%s/intel-iommu/address", root,
				     de->d_name) >= sizeof(path))
			continue;
		if (!read_small(path, buf, sizeof(buf)) || !parse_address(buf, &base))
			continue;
		for (size_t i = 0; i < n; i++) {
			const struct ish_unit *u = ish_target_unit(t, (unsigned)i);

			if (u && u->reg_base == base) {
				owned[i] = true;
				if (names)
					snprintf(names[i], sizeof(names[i]), "%s", de->d_name);
			}
		}
	}
	closedir(d);
	return true;
}

static void read_gsts(struct ish_target *t, unsigned unit, struct ish_unit_owner *o)
{
	uint64_t v;
	struct ish_error *err = ish_read_reg(t, unit, DMAR_GSTS_REG, 32, &v);

	if (err) {
		ish_error_destroy(err);
		return;
	}
	o->have_gsts = true;
	o->gsts = (uint32_t)v;
	o->tes = v & DMA_GSTS_TES;
	o->qies = v & DMA_GSTS_QIES;
	o->ires = v & DMA_GSTS_IRES;
}

struct ish_error *ish_unit_owner(struct ish_target *t, unsigned unit, struct ish_unit_owner *ret)
{
	unsigned n = ish_target_nunits(t);
	bool *owned;
	char (*names)[256];

	memset(ret, 0, sizeof(*ret));
	if (unit >= n)
		return ish_error_format(ISH_ERROR_NOT_FOUND, "no remapping unit %u", unit);
	read_gsts(t, unit, ret);
	ret->live = is_live(t);
	if (!ret->live)
		return NULL;
	owned = calloc(n, sizeof(*owned));
	names = calloc(n, sizeof(*names));
	if (!owned || !names) {
		free(owned);
		free(names);
		return &ish_enomem;
	}
	ret->sysfs_read = scan_sysfs(t, owned, names, n);
	ret->owned = owned[unit];
	if (ret->owned)
		snprintf(ret->sysfs_name, sizeof(ret->sysfs_name), "%s", names[unit]);
	free(owned);
	free(names);
	return NULL;
}

static void gsts_words(const struct ish_unit_owner *o, char *buf, size_t len)
{
	if (!o->have_gsts)
		snprintf(buf, len, "GSTS unreadable");
	else
		snprintf(buf, len, "GSTS %#" PRIx32 ": TES%c QIES%c IRES%c", o->gsts,
			 o->tes ? '+' : '-', o->qies ? '+' : '-', o->ires ? '+' : '-');
}

/* --- the gate --- */

static struct ish_error *cannot_write(struct ish_target *t, bool reg)
{
	const struct ish_backend *b = ish_target_backend(t);
	const void *hook = reg ? (const void *)b->write_reg : (const void *)b->write_phys;
	const char *why = b->write_refusal ? b->write_refusal(t, reg) : NULL;

	if (why)
		return ish_error_format(ISH_ERROR_UNSUPPORTED, "the %s backend cannot write %s: %s",
					b->name, reg ? "registers" : "memory", why);
	if (!hook)
		return ish_error_format(ISH_ERROR_UNSUPPORTED, "the %s backend cannot write %s",
					b->name, reg ? "registers" : "memory");
	return NULL;
}

/* Appends ", " and s to a malloc'd list (NULL: empty). False when out of memory. */
static bool list_add(char **list, const char *s)
{
	char *n;

	if (asprintf(&n, "%s%s%s", *list ? *list : "", *list ? ", " : "", s) < 0)
		return false;
	free(*list);
	*list = n;
	return true;
}

/*
 * Ownership of the units an operation touches: refused without --force;
 * with it, the forced units and their GSTS go into the question.
 */
static struct ish_error *check_owners(struct ish_target *t, struct ish_write_state *w, int unit,
				      char **forced, char **evidence)
{
	unsigned n = ish_target_nunits(t);
	char (*names)[256];
	struct ish_error *err = NULL;
	char *refused = NULL;

	free(w->owned);
	w->owned = calloc(n ? n : 1, sizeof(*w->owned));
	names = calloc(n ? n : 1, sizeof(*names));
	w->nowned = n;
	if (!w->owned || !names) {
		free(names);
		return &ish_enomem;
	}
	scan_sysfs(t, w->owned, names, n);
	for (unsigned i = 0; i < n; i++) {
		struct ish_unit_owner o = { 0 };
		char g[64], item[256];

		if (unit >= 0 && (unsigned)unit != i)
			continue;
		read_gsts(t, i, &o);
		gsts_words(&o, g, sizeof(g));
		snprintf(item, sizeof(item), "%s: %s", ish_target_unit(t, i)->name, g);
		if (!list_add(evidence, item))
			goto nomem;
		if (!w->owned[i])
			continue;
		snprintf(item, sizeof(item), "%s (%s/%s, register base %#" PRIx64 ", %s)",
			 ish_target_unit(t, i)->name, ish_target_param(t, "iommu.sysfs"), names[i],
			 ish_target_unit(t, i)->reg_base, g);
		if (!list_add((ish_target_flags(t) & ISH_OPEN_FORCE) ? forced : &refused, item))
			goto nomem;
	}
	if (refused)
		err = ish_error_format(ISH_ERROR_REFUSED,
				       "the kernel's intel-iommu driver owns %s: writing under a "
				       "running driver can hang or corrupt the machine; give --force "
				       "(or 'open --force') to write anyway",
				       refused);
	free(refused);
	free(names);
	return err;
nomem:
	free(refused);
	free(names);
	return &ish_enomem;
}

/*
 * A target that is not this host but a running system (a QEMU guest through
 * its gdbstub): a unit is driven by the guest's OS when its invalidation queue holds another
 * agent's descriptors (ish_queue_owner(): Linux always enables QI where the
 * unit has it and submits at once). Writing its registers or memory under
 * that OS is refused unless --force. Dumps cannot write at all.
 */
static struct ish_error *check_os_owners(struct ish_target *t, int unit, unsigned kinds)
{
	unsigned n = ish_target_nunits(t);

	if (ish_target_flags(t) & ISH_OPEN_FORCE)
		return NULL;
	/*
	 * Only a target that attaches to a running system (it can be stopped
	 * and resumed: the gdbstub) has an OS to disturb; the mem backend is a
	 * fake that tests and Lua image builders fill by writing. The queue
	 * rule (ish_invalidate) holds on every target all the same.
	 */
	if (!ish_target_backend(t)->stop)
		return NULL;
	if (kinds & ISH_WRITE_MEMORY)
		unit = ISH_WRITE_ALL_UNITS;
	for (unsigned i = 0; i < n; i++) {
		struct ish_queue_owner o;
		struct ish_error *err;

		if (unit >= 0 && (unsigned)unit != i)
			continue;
		err = ish_queue_owner(t, i, &o);
		if (err) {
			/* A unit whose queue cannot be read is no evidence either way. */
			ish_error_destroy(err);
			continue;
		}
		if (o.agent == ISH_QUEUE_OS)
			return ish_error_format(ISH_ERROR_REFUSED,
						"an operating system drives %s (%s): writing its %s "
						"under it can hang or corrupt that system; give --force "
						"(or 'open --force') to write anyway",
						ish_target_unit(t, i)->name, o.evidence,
						(kinds & ISH_WRITE_MEMORY) ? "memory" : "registers");
	}
	return NULL;
}

/*
 * IQT and IQA of a queue another agent drives: a write moves the queue
 * under that agent's software tail, which is how a guest was measured to
 * lose all DMA for good. Refused even with --force; `invalidate` submits
 * cooperatively instead (lib/vtd/queue.c).
 */
static struct ish_error *check_queue_regs(struct ish_target *t, struct ish_write_state *w,
					  unsigned unit, uint32_t offset)
{
	struct ish_queue_owner o;
	struct ish_error *err;

	if (offset != DMAR_IQT_REG && offset != DMAR_IQA_REG)
		return NULL;
	if (w->tail_ok && offset == DMAR_IQT_REG)
		return NULL;
	err = ish_queue_owner(t, unit, &o);
	if (err) {
		ish_error_destroy(err);
		return NULL;
	}
	if (o.agent != ISH_QUEUE_OS)
		return NULL;
	return ish_error_format(ISH_ERROR_REFUSED,
				"%s of %s is refused, even with --force: another agent drives its "
				"invalidation queue (%s), and moving %s under it leaves that agent's "
				"software tail behind, so its next invalidation is lost or hangs; "
				"use 'invalidate' (with --force it submits cooperatively)",
				offset == DMAR_IQT_REG ? "writing IQT" : "writing IQA",
				ish_target_unit(t, unit)->name, o.evidence,
				offset == DMAR_IQT_REG ? "the tail" : "the queue");
}

static struct ish_error *gate(struct ish_target *t, struct ish_write_state *w, int unit,
			      unsigned kinds, const char *what)
{
	struct ish_write_question q = { 0 };
	char *forced = NULL, *evidence = NULL;
	struct ish_error *err;
	bool live = is_live(t);

	if (unit >= 0 && (unsigned)unit >= ish_target_nunits(t))
		return ish_error_format(ISH_ERROR_NOT_FOUND, "no remapping unit %d", unit);
	if (!ish_target_writable(t))
		return ish_error_format(ISH_ERROR_READ_ONLY,
					"target is read-only: %s needs --write or 'set write on'",
					what);
	if ((kinds & ISH_WRITE_REGS) && (err = cannot_write(t, true)))
		return err;
	if ((kinds & ISH_WRITE_MEMORY) && (err = cannot_write(t, false)))
		return err;
	if (!live)
		return check_os_owners(t, unit, kinds);
	/* A memory write reaches the tables of every unit. */
	err = check_owners(t, w, (kinds & ISH_WRITE_MEMORY) ? ISH_WRITE_ALL_UNITS : unit, &forced,
			   &evidence);
	if (err)
		goto out;
	if (ish_target_flags(t) & ISH_OPEN_YES)
		goto out;
	if (!w->confirm) {
		err = ish_error_format(ISH_ERROR_REFUSED,
				       "%s would write to this live host and nothing can ask for "
				       "confirmation: give --yes (ISH_OPEN_YES) to write without asking",
				       what);
		goto out;
	}
	q.what = what;
	q.backend = ish_target_backend(t)->name;
	q.spec = ish_target_spec(t);
	q.units = unit >= 0 ? ish_target_unit(t, (unsigned)unit)->name :
			      (kinds & ISH_WRITE_MEMORY) ? "physical memory" : "every unit";
	q.forced = forced;
	q.evidence = evidence;
	err = w->confirm(w->confirm_arg, &q);
out:
	free(forced);
	free(evidence);
	return err;
}

static struct ish_error *inner_check(struct ish_target *t, struct ish_write_state *w, int unit,
				     bool reg);

struct ish_error *ish_write_begin(struct ish_target *t, int unit, unsigned kinds,
				  const char *what)
{
	struct ish_write_state *w = wstate(t);
	struct ish_error *err;

	if (!w)
		return &ish_enomem;
	if (w->depth) {
		/* Inside an operation: asked already, but the checks still hold. */
		err = NULL;
		if (kinds & ISH_WRITE_REGS)
			err = inner_check(t, w, unit, true);
		if (!err && (kinds & ISH_WRITE_MEMORY))
			err = inner_check(t, w, ISH_WRITE_ALL_UNITS, false);
		if (err) {
			if (err != &ish_enomem)
				log_refusal(t, w, unit, what, err);
			return err;
		}
		w->depth++;
		return NULL;
	}
	err = log_open(t, w);
	if (!err)
		err = gate(t, w, unit, kinds, what);
	if (err) {
		if (err != &ish_enomem)
			log_refusal(t, w, unit, what, err);
		return err;
	}
	w->op = strdup(what);
	if (!w->op)
		return &ish_enomem;
	w->op_unit = unit;
	w->depth = 1;
	return NULL;
}

void ish_write_end(struct ish_target *t)
{
	struct ish_write_state *w = *ish_target_wstate(t);

	if (!w || !w->depth || --w->depth)
		return;
	free(w->op);
	w->op = NULL;
	free(w->owned);
	w->owned = NULL;
	w->nowned = 0;
}

/*
 * A write inside an operation: the backend must still be able to (an
 * operation on registers may go on to write memory), and a unit the gate
 * did not look at must not be owned.
 */
static struct ish_error *inner_check(struct ish_target *t, struct ish_write_state *w, int unit,
				     bool reg)
{
	struct ish_error *err = cannot_write(t, reg);

	if (err || !is_live(t) || (ish_target_flags(t) & ISH_OPEN_FORCE))
		return err;
	if (!w->owned) {
		char *forced = NULL, *evidence = NULL;

		err = check_owners(t, w, reg ? unit : ISH_WRITE_ALL_UNITS, &forced, &evidence);
		free(forced);
		free(evidence);
		return err;
	}
	for (size_t i = 0; i < w->nowned; i++)
		if (w->owned[i] && (!reg || unit < 0 || (size_t)unit == i))
			return ish_error_format(ISH_ERROR_REFUSED,
						"the kernel's intel-iommu driver owns %s: give --force "
						"to write anyway",
						ish_target_unit(t, (unsigned)i)->name);
	return NULL;
}

static void reg_name(struct ish_target *t, unsigned unit, uint32_t offset, char *buf, size_t len)
{
	const struct ish_backend *b = ish_target_backend(t);
	const struct ish_unit *u = ish_target_unit(t, unit);
	const struct ish_reg_def *r;
	uint64_t cap = 0, ecap = 0;
	unsigned index;

	/* Straight from the backend: the CAP/ECAP cache was dropped for the write. */
	if (b->read_reg) {
		ish_error_destroy(b->read_reg(t, u, DMAR_CAP_REG, 64, &cap));
		ish_error_destroy(b->read_reg(t, u, DMAR_ECAP_REG, 64, &ecap));
	}
	r = ish_reg_at(offset, cap, ecap, &index);
	if (r)
		ish_reg_instance_name(r, index, buf, len);
	else
		snprintf(buf, len, "?");
}

/* --- the register access model --- */

/*
 * What the register table says about a write of width bits at offset of
 * unit: refused when no register is there or the register is read-only.
 * Needs no write mode and no question: it is a fact about the hardware, so
 * it comes before both. CAP/ECAP (cached by the target) place the fault
 * records and the IOTLB registers; unreadable, only fixed registers count.
 */
static struct ish_error *reg_access_refusal(struct ish_target *t, unsigned unit, uint32_t offset,
					    unsigned width, char *name, size_t len)
{
	const struct ish_unit *u = ish_target_unit(t, unit);
	const struct ish_reg_def *r;
	uint64_t cap = 0, ecap = 0;
	struct ish_error *e;
	unsigned index, shift;

	if (!u)
		return ish_error_format(ISH_ERROR_NOT_FOUND, "no remapping unit %u", unit);
	/*
	 * The registers every unit has at fixed offsets below IQH are found
	 * without reading CAP/ECAP (fault records and the IOTLB registers sit
	 * after the fixed block; QEMU: 0x220, 0x200), so a write to GCMD is
	 * still one access on the wire.
	 */
	r = ish_reg_for_access(offset, width, 0, 0, &index, &shift);
	if (!r || r->cond_reg != ISH_COND_ALWAYS || offset >= DMAR_IQH_REG) {
		e = ish_read_reg(t, unit, DMAR_CAP_REG, 64, &cap);
		if (e == &ish_enomem)
			return e;
		ish_error_destroy(e);
		e = ish_read_reg(t, unit, DMAR_ECAP_REG, 64, &ecap);
		if (e == &ish_enomem)
			return e;
		ish_error_destroy(e);
		r = ish_reg_for_access(offset, width, cap, ecap, &index, &shift);
	}
	if (!r)
		return ish_error_format(ISH_ERROR_NOT_FOUND,
					"%s has no VT-d register at offset %#" PRIx32 " (a %u-bit write)%s: "
					"refusing a write the register table cannot check",
					u->name, offset, width,
					cap && ecap ? "" : " (CAP/ECAP unreadable: fault records and "
							   "IOTLB registers cannot be placed)");
	ish_reg_instance_name(r, index, name, len);
	if (r->access == ISH_ACCESS_RO)
		return ish_error_format(ISH_ERROR_REFUSED,
					"%s is read-only (RO): the hardware ignores writes to it "
					"(VT-d %s)", name, r->spec);
	return NULL;
}

struct ish_error *ish_write_reg_check(struct ish_target *t, unsigned unit, uint32_t offset,
				      unsigned width, uint64_t value, const char *what)
{
	struct ish_write_state *w = wstate(t);
	struct ish_write_record r = { 0 };
	struct ish_error *err;
	char name[32] = "?";

	if (!w)
		return &ish_enomem;
	err = reg_access_refusal(t, unit, offset, width, name, sizeof(name));
	if (!err || err == &ish_enomem || unit >= ish_target_nunits(t))
		return err;
	/* Logged like every refusal; a log that cannot be opened changes nothing here. */
	ish_error_destroy(log_open(t, w));
	r.is_reg = true;
	r.op = what;
	r.unit = ish_target_unit(t, unit)->name;
	r.reg = name;
	r.offset = offset;
	r.width = width;
	r.value = value;
	r.result = "refused";
	r.reason = err->message;
	log_record(t, w, &r);
	return err;
}

/*
 * A single write outside an operation is its own operation (begun here and
 * ended by the caller when *implicit); inside one it is checked again.
 */
static struct ish_error *enter(struct ish_target *t, struct ish_write_state *w, int unit,
			       unsigned kinds, const char *what, bool *implicit)
{
	struct ish_error *err;

	*implicit = !w->depth;
	if (*implicit)
		return ish_write_begin(t, unit, kinds, what);
	err = inner_check(t, w, unit, kinds & ISH_WRITE_REGS);
	if (err)
		log_refusal(t, w, unit, NULL, err);
	return err;
}

struct ish_error *ish_write_reg_gated(struct ish_target *t, unsigned unit, uint32_t offset,
				      unsigned width, uint64_t value)
{
	struct ish_write_state *w = wstate(t);
	const struct ish_backend *b = ish_target_backend(t);
	const struct ish_unit *u = ish_target_unit(t, unit);
	struct ish_write_record r = { 0 };
	struct ish_error *err;
	bool implicit;
	char name[32] = "?", what[64];

	if (!w)
		return &ish_enomem;
	snprintf(what, sizeof(what), "write register %#" PRIx32 " of %s", offset, u->name);
	if ((err = ish_write_reg_check(t, unit, offset, width, value, w->depth ? NULL : what)))
		return err;
	if ((err = enter(t, w, (int)unit, ISH_WRITE_REGS, what, &implicit)))
		return err;
	if ((err = check_queue_regs(t, w, unit, offset))) {
		log_refusal(t, w, (int)unit, NULL, err);
		if (implicit)
			ish_write_end(t);
		return err;
	}
	/* A register write can make the hardware write memory (status, faults). */
	ish_target_cache_drop(t);
	r.is_reg = true;
	r.unit = u->name;
	r.offset = offset;
	r.width = width;
	r.value = value;
	if (logging(w)) {
		reg_name(t, unit, offset, name, sizeof(name));
		r.reg = name;
		/* VT-d registers have no read side effects (11.4), so the old value is safe to read. */
		if (b->read_reg) {
			struct ish_error *e = b->read_reg(t, u, offset, width, &r.old);

			r.have_old = !e;
			ish_error_destroy(e);
		}
	}
	err = b->write_reg(t, u, offset, width, value);
	r.result = err ? "error" : "ok";
	r.reason = err ? err->message : NULL;
	log_record(t, w, &r);
	if (implicit)
		ish_write_end(t);
	return err;
}

struct ish_error *ish_write_phys_gated(struct ish_target *t, uint64_t addr, const void *buf,
				       size_t len)
{
	struct ish_write_state *w = wstate(t);
	const struct ish_backend *b = ish_target_backend(t);
	struct ish_write_record r = { 0 };
	uint8_t old[MAX_LOGGED_BYTES];
	struct ish_error *err;
	bool implicit;

	if (!w)
		return &ish_enomem;
	if ((err = enter(t, w, ISH_WRITE_ALL_UNITS, ISH_WRITE_MEMORY, "memory write", &implicit)))
		return err;
	ish_target_cache_drop(t);
	/* Memory written for one unit (its queue) is logged under that unit. */
	if (w->op_unit >= 0 && (unsigned)w->op_unit < ish_target_nunits(t))
		r.unit = ish_target_unit(t, (unsigned)w->op_unit)->name;
	r.addr = addr;
	r.len = len;
	r.new_bytes = buf;
	if (logging(w) && len <= sizeof(old) && b->read_phys) {
		struct ish_error *e = b->read_phys(t, addr, old, len);

		if (!e)
			r.old_bytes = old;
		ish_error_destroy(e);
	}
	err = b->write_phys(t, addr, buf, len);
	r.result = err ? "error" : "ok";
	r.reason = err ? err->message : NULL;
	log_record(t, w, &r);
	if (implicit)
		ish_write_end(t);
	return err;
}

struct ish_error *ish_queue_write_tail(struct ish_target *t, unsigned unit, uint64_t iqt)
{
	struct ish_write_state *w = wstate(t);
	struct ish_error *err;

	if (!w)
		return &ish_enomem;
	w->tail_ok = true;
	err = ish_write_reg(t, unit, DMAR_IQT_REG, 64, iqt);
	w->tail_ok = false;
	return err;
}

void ish_write_log_refusal(struct ish_target *t, int unit, const char *op,
			   const struct ish_error *err)
{
	struct ish_write_state *w = wstate(t);

	struct ish_error *e;

	if (!w || err == &ish_enomem)
		return;
	e = log_open(t, w);
	if (e)
		ish_error_destroy(e);
	else
		log_refusal(t, w, unit, op, err);
}
