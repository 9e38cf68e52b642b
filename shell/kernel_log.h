/* SPDX-License-Identifier: MIT */
/* The kernel log's part of `log` and `faults` (shell/cmd_klog.c). */
#ifndef IOMMUSH_SHELL_KERNEL_LOG_H
#define IOMMUSH_SHELL_KERNEL_LOG_H

#include <stdbool.h>

#include "shell.h"

int ish_cmd_log(struct ish_shell *sh, int argc, char **argv);
/* Whether `faults` lists the log's faults unasked: the target carries VMCOREINFO (no RAM scan). */
bool sh_log_faults_wanted(struct ish_target *t);
/*
 * The kernel log's DMA remapping faults, decoded; walk: translate each
 * address as the tables say now. In JSON one object, inside the caller's array.
 */
int sh_log_faults(struct ish_shell *sh, struct ish_target *t, bool walk);

#endif
