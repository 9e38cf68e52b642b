/* SPDX-License-Identifier: MIT */
/*
 * A small bounded reader of BTF, the kernel's type information (Linux
 * include/uapi/linux/btf.h, Documentation/bpf/btf.rst): enough to find a
 * struct or union by name, the offset, size and bit position of a member
 * (typedefs, const, volatile, restrict and type tags resolved; nested
 * members with dots; anonymous members searched through), and to list
 * members with a printable type. Used by iommush/kernel.h.
 *
 * The blob is copied and checked once at parse time (header, section
 * bounds, every type's length, every name offset inside the string
 * section); every later walk through type references is depth-bounded, so
 * a hostile blob yields an error, never a crash or a hang.
 */
#ifndef IOMMUSH_BTF_H
#define IOMMUSH_BTF_H

#include <stddef.h>
#include <stdint.h>

#include <iommush/error.h>
#include <iommush/kernel.h>

#ifdef __cplusplus
extern "C" {
#endif

struct ish_btf;

/* At most ISH_BTF_MAX_SIZE bytes; ISH_ERROR_FORMAT names what is wrong. */
#define ISH_BTF_MAX_SIZE (256u << 20)
struct ish_error *ish_btf_parse(const void *data, size_t len, struct ish_btf **ret);
void ish_btf_destroy(struct ish_btf *b);

size_t ish_btf_size(const struct ish_btf *b);
/* Types, not counting void (id 0). */
size_t ish_btf_ntypes(const struct ish_btf *b);

/*
 * "struct NAME", "union NAME", "enum NAME" or a typedef/base type name; a
 * complete definition is preferred over a forward declaration.
 */
struct ish_error *ish_btf_find(const struct ish_btf *b, const char *type, uint32_t *ret);
struct ish_error *ish_btf_type_size(const struct ish_btf *b, uint32_t id, uint64_t *ret);
/* member: "name" or "outer.inner"; id a struct or union (typedefs resolved). */
struct ish_error *ish_btf_member(const struct ish_btf *b, uint32_t id, const char *member,
				 struct ish_kernel_member *ret);
/* C-like name of type id into buf ("struct list_head *", "char [16]"). */
void ish_btf_type_name(const struct ish_btf *b, uint32_t id, char *buf, size_t len);

/* One member, for listing. */
struct ish_btf_field {
	const char *name;	/* "" for an anonymous member */
	uint32_t type;
	struct ish_kernel_member where;
};
typedef struct ish_error *ish_btf_field_fn(void *arg, const struct ish_btf_field *f);
/* The direct members of struct/union id, in order. */
struct ish_error *ish_btf_members(const struct ish_btf *b, uint32_t id, ish_btf_field_fn *fn,
				  void *arg);

#ifdef __cplusplus
}
#endif

#endif
