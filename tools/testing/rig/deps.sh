#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Install what `make check` and `make run` need on a Debian 12 machine,
# only what is missing.
set -e

# Two kernel series (kver.sh): bookworm's 6.1 and the 6.12 that
# bookworm-security and bookworm-backports ship, through their
# meta-packages.
pkgs="qemu-system-x86 bochs bochsbios vgabios bochs-term linux-image-cloud-amd64
linux-headers-cloud-amd64 linux-image-6.12-cloud-amd64 linux-headers-6.12-cloud-amd64
busybox-static cpio xorriso isolinux syslinux-common linux-source-6.1 gcc make rsync"
# The packaging checks (pkg-check.sh), without their recommendations
# (dkms would pull in the generic kernel's headers).
pkg_tools="dkms dh-dkms debhelper lintian"

missing() {
	local p
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
			echo "$p"
	done
}
missing_pkgs=$(missing $pkgs)
missing_tools=$(missing $pkg_tools)
[ -z "$missing_pkgs$missing_tools" ] && exit 0

echo "rig: installing:" $missing_pkgs $missing_tools
SUDO=
[ "$(id -u)" = 0 ] || SUDO=sudo
$SUDO apt-get update -q
export DEBIAN_FRONTEND=noninteractive
[ -z "$missing_pkgs" ] || $SUDO apt-get install -y -q $missing_pkgs
[ -z "$missing_tools" ] || $SUDO apt-get install -y -q --no-install-recommends $missing_tools
