#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# pkg-root.sh DEB RELEASE...: run by pkg-check.sh as root in a throwaway
# root (an overlay on the build machine's /, inside a mount namespace),
# with the build tree at /mnt/build.  Installs the mvm-dkms package as a
# user would, checks what it leaves where, keeps a copy of the installed
# files for the rig guest's modprobe check, and removes and purges it.
set -u
deb=/mnt/build/deb/$1
shift
rels=" $* "

row() {		# $1: row; the rest: a command whose status decides it
	local name=$1 rc
	shift
	echo "@@ pkg $name start"
	local t0=$SECONDS
	"$@" > /tmp/row.out 2>&1
	rc=$?
	sed "s/^/@@ pkg $name | /" /tmp/row.out
	echo "@@ pkg $name rc=$rc ($((SECONDS - t0)) s)"
}

series() { echo "$1" | sed -n 's/^\([0-9]*\.[0-9]*\).*/\1/p'; }
version=$(dpkg-deb -f "$deb" Version)

# The kernels of this root: the rig's, no others (the postinst builds for
# every kernel in /lib/modules when the running one is not installed).
for d in /lib/modules/*; do
	case "$rels" in *" ${d##*/} "*) ;; *) rm -rf "$d" ;; esac
done

deb_install() {
	dpkg -i "$deb" || { cat /var/lib/dkms/mvm/*/build/make.log 2>/dev/null; return 1; }
}

dkms_built() {	# $1: release
	local ko
	# Compressed as that kernel's own modules are (6.12: xz).
	ko=$(ls /lib/modules/"$1"/updates/dkms/mvm.ko* 2>/dev/null | head -n 1)
	dkms status -m mvm -v "$version" -k "$1"
	dkms status -m mvm -v "$version" -k "$1" | grep -q ': installed' || return 1
	[ -f "$ko" ] || { echo "no /lib/modules/$1/updates/dkms/mvm.ko*"; return 1; }
	echo "$ko"
	modinfo -F vermagic "$ko"
	modinfo -F vermagic "$ko" | grep -q "^$1 " || { echo "vermagic is not $1"; return 1; }
}

files_in_place() {
	local f ok=0
	for f in /lib/udev/rules.d/65-mvm.rules /etc/modprobe.d/mvm.conf \
		 /usr/src/mvm-$version/dkms.conf; do
		if [ -f "$f" ] && dpkg -S "$f" >/dev/null; then
			echo "$f: $(dpkg -S "$f")"
		else
			echo "missing or not the package's: $f"; ok=1
		fi
	done
	dpkg-query -W -f='conffiles:\n${Conffiles}\n' mvm-dkms
	dpkg-query -W -f='${Conffiles}\n' mvm-dkms | grep -q '/etc/modprobe.d/mvm.conf' ||
		{ echo "/etc/modprobe.d/mvm.conf is not a conffile"; ok=1; }
	return $ok
}

modprobe_finds() {	# $1: release
	local out
	out=$(modprobe --dry-run --verbose --set-version="$1" mvm devname=kvm 2>&1)
	echo "$out"
	case "$out" in
	*"insmod /lib/modules/$1/updates/dkms/mvm.ko devname=kvm"* | \
	*"insmod /lib/modules/$1/updates/dkms/mvm.ko."*" devname=kvm"*) ;;
	*) return 1 ;;
	esac
	# What the rig's guest needs for its modprobe check: the installed
	# files of this kernel, and Debian's modprobe (kmod) with its libraries.
	local keep=/mnt/build/rig/$1/pkg-root f lib
	rm -rf "$keep"
	mkdir -p "$keep/sbin"
	for f in /lib/modules/"$1"/updates/dkms/mvm.ko* /lib/modules/"$1"/modules.* \
		 /etc/modprobe.d/mvm.conf /lib/udev/rules.d/65-mvm.rules /bin/kmod; do
		cp --parents "$f" "$keep/" || return 1
	done
	for lib in $(ldd /bin/kmod | grep -o '/[^ ]*'); do
		cp -L --parents "$lib" "$keep/"
	done
	ln -s /bin/kmod "$keep/sbin/modprobe"
	ln -s /bin/kmod "$keep/sbin/lsmod"
	echo "kept for the guest: $keep"
}

deb_remove() {
	local rel ok=0
	dpkg -r mvm-dkms || return 1
	for rel in $rels; do
		ls /lib/modules/"$rel"/updates/dkms/mvm.ko* 2>/dev/null && ok=1
	done
	[ -e /lib/udev/rules.d/65-mvm.rules ] && { echo "left: the udev rule"; ok=1; }
	[ -d "/usr/src/mvm-$version" ] && { echo "left: /usr/src/mvm-$version"; ok=1; }
	[ -n "$(dkms status -m mvm)" ] && { dkms status -m mvm; ok=1; }
	[ -f /etc/modprobe.d/mvm.conf ] || { echo "the conffile went with dpkg -r"; ok=1; }
	dpkg-query -W -f='${db:Status-Status}\n' mvm-dkms
	[ "$(dpkg-query -W -f='${db:Status-Status}' mvm-dkms)" = config-files ] || ok=1
	return $ok
}

deb_purge() {
	dpkg -P mvm-dkms || return 1
	[ -e /etc/modprobe.d/mvm.conf ] && { echo "left: /etc/modprobe.d/mvm.conf"; return 1; }
	dpkg-query -W -f='${db:Status-Status}\n' mvm-dkms 2>&1
	! dpkg-query -W -f='${db:Status-Status}' mvm-dkms 2>/dev/null | grep -q installed
}

row deb-install deb_install
for rel in $rels; do
	row "dkms-build-$(series "$rel")" dkms_built "$rel"
done
row deb-files files_in_place
for rel in $rels; do
	row "modprobe-$(series "$rel")" modprobe_finds "$rel"
done
row deb-remove deb_remove
row deb-purge deb_purge
