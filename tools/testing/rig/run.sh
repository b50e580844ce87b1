#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make run: build the example VMM and boot Linux with it on mvm.  This host has
# no usable VT-x/AMD-V for a module (or cannot load modules), so boot
# Debian's kernel in QEMU with an emulated AMD-V CPU and do it there;
# MVMRIG_RUN_CONFIG=vmx uses Bochs and VT-x instead.
set -eu
. "$(dirname "$0")/lib.sh"

config=${MVMRIG_RUN_CONFIG:-svm}
"$RIG/build.sh" >/dev/null
# On a terminal (QEMU only), the guest's console is the terminal and the
# guest gives a shell; exit it (or Ctrl-A x, QEMU's) to end.
if [ -t 0 ] && [ -t 1 ] && [ "$config" != vmx ]; then
	echo "make run: booting QEMU (AMD-V), then mvm-vmm boots Linux on mvm with 2 vCPUs..."
	MVMRIG_INTERACTIVE=1 MVMRIG_APPEND="${MVMRIG_APPEND:-} MVMRIG_INTERACTIVE=1" \
		"$RIG/boot.sh" "$config" run "$OUT/run-$config.log"
	exit 0
fi
MVMRIG_BOOT_TIMEOUT=${MVMRIG_BOOT_TIMEOUT:-900} "$RIG/boot.sh" "$config" run "$OUT/run-$config.log"
tr -d '\r' < "$OUT/run-$config.log" | sed 's/\x1bc//g; s/\x1b\[[0-9;?]*[a-zA-Z]//g' |
	sed -n '/mvm-vmm: using/,/^@@ run rc=/p' |
	sed 's/^@@ run rc=/mvm-vmm exit status: /'
grep -q '^@@ run rc=0' <(tr -d '\r' < "$OUT/run-$config.log")
