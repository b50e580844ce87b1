#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# module.sh: build mvm.ko for the rig's kernel (lib.sh: KVER or
# MVMRIG_KERNEL) into build/rig/<release>/mvm.ko, from a copy of the
# sources kept there, so that the modules of two kernels can be built
# and kept side by side without touching the tree's own mvm.ko.  rsync
# keeps the copy's timestamps: rebuilds are incremental.
set -e
. "$(dirname "$0")/lib.sh"

[ -n "$KVER" ] || die "no headers of kernel series ${MVMRIG_KERNEL:-6.1} installed (make deps)"
kdir=/lib/modules/$KVER/build
[ -d "$kdir" ] || die "no kernel build tree at $kdir (make deps)"
src=$KOUT/src
mkdir -p "$src"
rsync -a --delete --exclude='*.o' --exclude='*.ko' --exclude='*.mod' \
	--exclude='*.mod.c' --exclude='.*.cmd' --exclude='*.o.d' --exclude='*.a' \
	--exclude=Module.symvers --exclude=modules.order \
	--include='/Kbuild' --include='/include/***' --include='/arch/***' \
	--include='/virt/***' --exclude='*' "$TOP/" "$src/"
# The copy's own build products survive rsync (excluded from --delete).
make -s -j"$(nproc)" -C "$kdir" M="$src" modules >"$KOUT/module-build.log" 2>&1 ||
	{ cat "$KOUT/module-build.log" >&2; die "mvm.ko does not build for $KVER"; }
if grep -qiE 'warning|error' "$KOUT/module-build.log"; then
	cat "$KOUT/module-build.log" >&2
	die "mvm.ko builds with warnings for $KVER"
fi
cp "$src/mvm.ko" "$KOUT/mvm.ko"
