#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make run: build the example VMM and run its guest on mvm.  This host has
# no usable VT-x/AMD-V for a module (or cannot load modules), so boot
# Debian's kernel in QEMU with an emulated AMD-V CPU and do it there;
# MVMRIG_RUN_CONFIG=vmx uses Bochs and VT-x instead.
set -eu
. "$(dirname "$0")/lib.sh"

config=${MVMRIG_RUN_CONFIG:-svm}
"$RIG/build.sh" >/dev/null
MVMRIG_BOOT_TIMEOUT=600 "$RIG/boot.sh" "$config" run "$OUT/run-$config.log"
tr -d '\r' < "$OUT/run-$config.log" | sed 's/\x1bc//g; s/\x1b\[[0-9;?]*[a-zA-Z]//g' |
	sed -n '/mvm-vmm: using/,/^@@ run rc=/p' |
	sed 's/^@@ run rc=/guest exit status: /'
grep -q '^@@ run rc=0' <(tr -d '\r' < "$OUT/run-$config.log")
