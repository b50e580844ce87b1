#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# pkg-check.sh: the packaging checks of make check, on the build machine,
# which they leave as it was.  Output in the rig's "@@ " format
# (report.awk): one row per check.
#   version:    dkms.conf's PACKAGE_VERSION is debian/changelog's
#   modinfo:    every module parameter has a MODULE_PARM_DESC, on both
#               kernels (mvm.ko from module.sh)
#   make-install: make install / make uninstall into a DESTDIR
#   deb-build:  make dkms-deb
#   lintian:    no errors
#   deb-install, dkms-build-<series>, deb-files, modprobe-<series>,
#   deb-remove, deb-purge: in a throwaway root (a mount namespace with an
#               overlay on /, in tmpfs): dpkg -i runs the postinst's
#               dkms add/build/install, for the rig's two kernels (the
#               only ones left in that root); modprobe --dry-run finds the
#               installed module; dpkg -r removes the modules and the udev
#               rule and keeps the modprobe configuration (a conffile);
#               dpkg -P removes that too.
# For the guest's check (lifecycle/modprobe.sh), the installed files of
# each kernel and Debian's modprobe are kept in build/rig/<release>/pkg-root.
set -u
. "$(dirname "$0")/lib.sh"

check() {	# $1: row; the rest: a command whose status decides it
	local name=$1 rc
	shift
	echo "@@ pkg $name start"
	local t0=$SECONDS
	"$@" > "$OUT/pkg-$name.out" 2>&1
	rc=$?
	sed "s/^/@@ pkg $name | /" "$OUT/pkg-$name.out"
	echo "@@ pkg $name rc=$rc ($((SECONDS - t0)) s)"
}

version_agrees() {
	local conf deb
	conf=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' "$TOP/dkms.conf")
	deb=$(cd "$TOP" && dpkg-parsechangelog -SVersion)
	echo "dkms.conf: $conf, debian/changelog: $deb"
	[ -n "$conf" ] && [ "$conf" = "$deb" ]
}

params_described() {
	local rel ko types descs missing=0
	for rel in $("$RIG/kver.sh" all); do
		ko=$OUT/$rel/mvm.ko
		# check.sh has built them (build.sh); alone, build them.
		[ -f "$ko" ] || KVER=$rel "$RIG/module.sh" || return 1
		types=$(modinfo -F parmtype "$ko" | cut -d: -f1 | sort)
		descs=$(modinfo -F parm "$ko" | cut -d: -f1 | sort)
		echo "$rel: parameters $(echo $types)"
		if [ "$types" != "$descs" ]; then
			echo "$rel: without MODULE_PARM_DESC: $(comm -23 <(echo "$types") <(echo "$descs"))"
			missing=1
		fi
		modinfo "$ko" | grep '^parm:'
	done
	return $missing
}

make_install() {
	local d=$OUT/pkg-destdir f
	rm -rf "$d"
	make -s -C "$TOP" install DESTDIR="$d" || return 1
	for f in lib/modules/$KVER/updates/mvm.ko etc/udev/rules.d/65-mvm.rules \
		 etc/modprobe.d/mvm.conf; do
		[ -f "$d/$f" ] || { echo "make install: no /$f"; return 1; }
		echo "make install: /$f"
	done
	make -s -C "$TOP" uninstall DESTDIR="$d" || return 1
	f=$(find "$d" -type f)
	[ -z "$f" ] || { echo "make uninstall left: $f"; return 1; }
	echo "make uninstall: nothing left"
	rm -rf "$d"
}

deb_build() {
	make -s -C "$TOP" dkms-deb || return 1
	deb=$(ls "$TOP"/build/deb/mvm-dkms_*_all.deb) || return 1
	dpkg-deb -I "$deb"
	dpkg-deb -c "$deb" | grep -v '/$' | grep -vE 'usr/src/.*\.[chS]$'
}

lintian_clean() {
	local out
	out=$(lintian --allow-root "$deb" 2>&1)
	echo "${out:-lintian: no tags}"
	! echo "$out" | grep -q '^E: '
}

# In a mount namespace of its own: everything this writes under / goes to
# a tmpfs and disappears with the namespace.
throwaway_root() {
	local t=$OUT/pkg-root-tmp
	mkdir -p "$t"
	BUILD=$TOP/build RIG=$RIG unshare --mount --propagation private bash -c '
		t=$1; shift
		mount -t tmpfs tmpfs "$t" || exit 1
		mkdir -p "$t/upper" "$t/work" "$t/root"
		mount -t overlay overlay -o "lowerdir=/,upperdir=$t/upper,workdir=$t/work" "$t/root" || exit 1
		for m in proc sys dev; do mount --rbind "/$m" "$t/root/$m"; done
		mount -t tmpfs tmpfs "$t/root/tmp"
		mkdir -p "$t/root/mnt/build"
		mount --bind "$BUILD" "$t/root/mnt/build"
		chroot "$t/root" /bin/bash -s "$@" < "$RIG/pkg-root.sh"
	' throwaway "$t" "$(basename "$deb")" $("$RIG/kver.sh" all)
}

check version version_agrees
check modinfo params_described
check make-install make_install
deb=
check deb-build deb_build
deb=$(ls "$TOP"/build/deb/mvm-dkms_*_all.deb 2>/dev/null | head -n 1)
if [ -n "$deb" ]; then
	check lintian lintian_clean
	# pkg-root.sh prints its own rows; a root that could not be made
	# (no overlayfs, no mount namespace) is a failure of its own.
	throwaway_root > "$OUT/pkg-root.out" 2>&1
	cat "$OUT/pkg-root.out"
	if ! grep -q '^@@ pkg deb-purge rc=' "$OUT/pkg-root.out"; then
		echo "@@ pkg throwaway-root start"
		echo "@@ pkg throwaway-root | the throwaway root did not run to its end"
		echo "@@ pkg throwaway-root rc=1"
	fi
fi
echo "@@ done"
