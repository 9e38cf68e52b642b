#include <iommush/kernel.h>
struct ish_error *ish_kernel_open(struct ish_target *t, struct ish_kernel **ret) { *ret = NULL; return ish_error_create(ISH_ERROR_NOT_FOUND, "no kernel (stub)"); }
void ish_kernel_destroy(struct ish_kernel *k) {}
struct ish_error *ish_kernel_vtd_units(struct ish_kernel *k, struct ish_kernel_vtd_unit **ret, size_t *n) { return ish_error_create(ISH_ERROR_NOT_FOUND, "stub"); }
struct ish_error *ish_kernel_va_to_pa(struct ish_kernel *k, uint64_t va, uint64_t *ret) { return ish_error_create(ISH_ERROR_NOT_FOUND, "stub"); }
struct ish_error *ish_kernel_read(struct ish_kernel *k, uint64_t va, void *buf, size_t len) { return ish_error_create(ISH_ERROR_NOT_FOUND, "stub"); }
struct ish_error *ish_kernel_read_u64(struct ish_kernel *k, uint64_t va, uint64_t *ret) { return ish_error_create(ISH_ERROR_NOT_FOUND, "stub"); }
struct ish_error *ish_kernel_member(struct ish_kernel *k, const char *type, const char *member, struct ish_kernel_member *ret) { return ish_error_create(ISH_ERROR_NOT_FOUND, "stub"); }
