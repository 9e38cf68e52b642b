/* SPDX-License-Identifier: MIT */
/*
 * A tiny test harness for unit tests: CHECK() records a failure with its
 * line (on stderr) and goes on; OK() asserts that a libiommush call
 * succeeded. A program's checks are grouped in named cases,
 *
 *	int main(int argc, char **argv)
 *	{
 *		check_init(argc, argv);
 *		CASE("root") test_root();
 *		...
 *		return check_report();
 *	}
 *
 * and it speaks TAP on stdout (meson's protocol: 'tap'): "ok N - name" or
 * "not ok N - name" per case, then the plan. `test_NAME PATTERN` runs only
 * the cases whose name contains PATTERN (the others are not run at all);
 * `meson test -C build --suite unit NAME --test-args PATTERN` does the same.
 * A failure outside every case (in shared set-up) is one more "not ok".
 */
#ifndef IOMMUSH_CHECK_H
#define IOMMUSH_CHECK_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <iommush/error.h>
#include <iommush/target.h>

static unsigned check_passed, check_failed;

#define CHECK(cond)                                                                   \
	do {                                                                          \
		if (cond) {                                                           \
			check_passed++;                                               \
		} else {                                                              \
			check_failed++;                                               \
			fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, \
				#cond);                                               \
		}                                                                     \
	} while (0)

#define CHECK_EQ(a, b)                                                                \
	do {                                                                          \
		unsigned long long check_a_ = (unsigned long long)(a);                \
		unsigned long long check_b_ = (unsigned long long)(b);                \
		if (check_a_ == check_b_) {                                           \
			check_passed++;                                               \
		} else {                                                              \
			check_failed++;                                               \
			fprintf(stderr, "%s:%d: %s == %s failed: %#llx != %#llx\n",   \
				__FILE__, __LINE__, #a, #b, check_a_, check_b_);      \
		}                                                                     \
	} while (0)

#define CHECK_STR(a, b)                                                               \
	do {                                                                          \
		const char *check_a_ = (a), *check_b_ = (b);                          \
		if (check_a_ && check_b_ && !strcmp(check_a_, check_b_)) {            \
			check_passed++;                                               \
		} else {                                                              \
			check_failed++;                                               \
			fprintf(stderr, "%s:%d: %s == %s failed: \"%s\" != \"%s\"\n", \
				__FILE__, __LINE__, #a, #b, check_a_ ? check_a_ : "(null)", \
				check_b_ ? check_b_ : "(null)");                      \
		}                                                                     \
	} while (0)

/* The call must succeed; on failure print the error and abort the program. */
#define OK(call)                                                                      \
	do {                                                                          \
		struct ish_error *ok_err_ = (call);                                   \
		if (ok_err_) {                                                        \
			fprintf(stderr, "%s:%d: %s failed: %s\n", __FILE__, __LINE__, \
				#call, ok_err_->message);                             \
			exit(1);                                                      \
		}                                                                     \
		check_passed++;                                                       \
	} while (0)

/* The call must fail with code; the error is freed. */
#define FAILS(call, errcode)                                                          \
	do {                                                                          \
		struct ish_error *f_err_ = (call);                                    \
		if (f_err_ && f_err_->code == (errcode)) {                            \
			check_passed++;                                               \
		} else {                                                              \
			check_failed++;                                               \
			fprintf(stderr, "%s:%d: %s: expected error %s, got %s\n",     \
				__FILE__, __LINE__, #call, ish_error_code_name(errcode), \
				f_err_ ? f_err_->message : "success");                \
		}                                                                     \
		ish_error_destroy(f_err_);                                            \
	} while (0)

static const char *check_filter;
static unsigned check_ncases, check_case_failed_before, check_failed_in_cases;

/* Takes the filter, if any, from argv[1]. */
static inline void check_init(int argc, char **argv)
{
	if (argc > 1 && argv[1][0])
		check_filter = argv[1];
}

static inline bool check_case_begin(const char *name)
{
	if (check_filter && !strstr(name, check_filter))
		return false;
	check_case_failed_before = check_failed;
	return true;
}

static inline int check_case_end(const char *name)
{
	unsigned failed = check_failed - check_case_failed_before;

	check_failed_in_cases += failed;
	printf("%sok %u - %s\n", failed ? "not " : "", ++check_ncases, name);
	fflush(stdout);
	return 0;
}

/* Runs the statement after it as the case NAME, unless the filter leaves it out. */
#define CASE(name)                                                                    \
	for (int case_once_ = check_case_begin(name); case_once_;                    \
	     case_once_ = check_case_end(name))

/* Ends the TAP stream; the program's exit status. */
static inline int check_report(void)
{
	if (check_failed > check_failed_in_cases)
		printf("not ok %u - checks outside the cases\n", ++check_ncases);
	printf("1..%u\n# %u passed, %u failed\n", check_ncases, check_passed, check_failed);
	return check_failed ? 1 : 0;
}

struct check_describe {
	const char *key;
	const char *text;
	uint64_t count;
	bool found;
};

static inline void check_describe_item(void *arg, const struct ish_describe_item *it)
{
	struct check_describe *c = arg;

	if (!c->found && !strcmp(it->key, c->key)) {
		c->text = it->text;
		c->count = it->count;
		c->found = true;
	}
}

/* The text the target's backend says under key (ish_target_describe), or NULL. */
static inline const char *describe_text(struct ish_target *t, const char *key)
{
	struct check_describe c = { .key = key };

	ish_target_describe(t, check_describe_item, &c);
	return c.text;
}

/* The count the target's backend says under key, or ~0 when it says none. */
static inline uint64_t describe_count(struct ish_target *t, const char *key)
{
	struct check_describe c = { .key = key };

	ish_target_describe(t, check_describe_item, &c);
	return c.found && !c.text ? c.count : ~(uint64_t)0;
}

#endif
