#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build the initramfs (and the Bochs ISO) the rig boots: busybox, mvm.ko,
# Debian's KVM modules, the selftests, the example VMM and the life-cycle
# checks, for one kernel (lib.sh: KVER or MVMRIG_KERNEL): mvm.ko built for
# it by module.sh, its KVM modules, its vmlinuz for the nested guests.
# Everything kernel-specific goes to build/rig/<release>/ (KOUT).
set -e
. "$(dirname "$0")/lib.sh"

# build.sh --pkg: after pkg-check.sh, the svm boot's initramfs
# (initrd-qemu.gz) again, now with the mvm-dkms package as pkg-check.sh's
# throwaway install left it (/pkg: DKMS's module for this kernel, depmod's
# index, the udev rule, the modprobe configuration, Debian's modprobe) and
# lifecycle/modprobe.sh, which loads it from there.  One more plain cpio
# in front of initrd.gz; the other boots' initramfs stay as they were.
if [ "${1:-}" = --pkg ]; then
	[ -d "$KOUT/pkg-root" ] || die "no $KOUT/pkg-root (pkg-check.sh)"
	p=$KOUT/pkg-cpio
	rm -rf "$p"
	mkdir -p "$p/lifecycle"
	cp -a "$KOUT/pkg-root" "$p/pkg"
	cp "$RIG/lifecycle/modprobe.sh" "$p/lifecycle/"
	(cd "$p" && find . | cpio -o -H newc --quiet) > "$KOUT/pkg.cpio"
	rm -rf "$p"
	cat "$(cat "$KOUT/qemu-cpio.path")" "$KOUT/nested.cpio" "$KOUT/pkg.cpio" \
		"$KOUT/initrd.gz" > "$KOUT/initrd-qemu.gz.tmp"
	mv "$KOUT/initrd-qemu.gz.tmp" "$KOUT/initrd-qemu.gz"
	exit 0
fi

[ -n "$KVER" ] || die "no headers of kernel series ${MVMRIG_KERNEL:-6.1} installed (make deps)"
[ -f "$VMLINUZ" ] || die "no $VMLINUZ (make deps)"
"$RIG/module.sh"

root=$KOUT/initramfs
rm -rf "$root"
mkdir -p "$root"/{bin,dev,proc,sys,tmp,m,tests,lifecycle}

make -s -C "$TOP/tools/testing/selftests/mvm" OUTPUT="$OUT/selftests" \
	DESTDIR="$root/tests" install
make -s -C "$TOP/tools/vmm" OUTPUT="$OUT"
make -s -C "$TOP/tools/mvm-bench" OUTPUT="$OUT"
make -s -C "$TOP/tools/mvm-stat" OUTPUT="$OUT"
gcc -O2 -Wall -static -o "$root/coexist" "$RIG/coexist.c"
gcc -O2 -Wall -static -o "$root/holdfd" "$RIG/holdfd.c"

cp /bin/busybox "$root/bin/busybox"
cp "$RIG/init" "$root/init"
cp "$RIG"/lifecycle/*.sh "$root/lifecycle/"
# lifecycle/modprobe.sh comes with the installed package (build.sh --pkg).
rm "$root/lifecycle/modprobe.sh"
cp "$KOUT/mvm.ko" "$OUT/mvm-vmm" "$OUT/hello.bin" "$root/"
[ -x "$OUT/mvm-bench" ] && cp "$OUT/mvm-bench" "$root/"
cp "$OUT/mvm-stat" "$root/"

# Debian's KVM, for the same tests against the real thing; zram (and its
# allocator and compressors: 6.12's zram links LZ4 in) for mm_test's swap
# test.
for m in virt/lib/irqbypass arch/x86/kvm/kvm arch/x86/kvm/kvm-amd \
	 arch/x86/kvm/kvm-intel mm/zsmalloc drivers/block/zram/zram \
	 crypto/lzo-rle lib/lz4/lz4_compress lib/lz4/lz4hc_compress; do
	f=$(ls "$MODDIR/$m".ko* 2>/dev/null | head -n 1)
	# Built into this kernel (6.12 has lzo-rle in): nothing to load.
	[ -n "$f" ] || ! grep -qx "kernel/$m.ko" "$MODDIR/../modules.builtin" ||
		continue
	[ -n "$f" ] || die "missing $MODDIR/$m.ko"
	case "$f" in
	*.xz)  xz -dc "$f" > "$root/m/$(basename "$m").ko" ;;
	*.zst) zstd -qdc "$f" > "$root/m/$(basename "$m").ko" ;;
	*)     cp "$f" "$root/m/" ;;
	esac
done

# The Linux guest of the example VMM (make run, vmm_boot_smp2): Debian's
# kernel and a busybox initramfs, in every boot (QEMU and Bochs).
g=$KOUT/vmm-guest-root
rm -rf "$g"
mkdir -p "$g/bin" "$g/dev" "$g/proc" "$g/sys" "$root/vmm-guest"
cp /bin/busybox "$g/bin/"
cp "$RIG/vmm-init" "$g/init"
(cd "$g" && find . | cpio -o -H newc --quiet | gzip -1) > "$root/vmm-guest/initrd.gz"
cp "$VMLINUZ" "$root/vmm-guest/vmlinuz"
rm -rf "$g"

(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) > "$KOUT/initrd.gz"

# The AMD-V QEMU boot (config svm) also runs Debian's unmodified QEMU on
# /dev/kvm (KVM's, then mvm's) to boot Debian's kernel as a nested guest:
# initrd-qemu.gz is two plain cpio archives followed by initrd.gz (the
# kernel unpacks concatenated archives in turn; plain ones unpack faster
# under TCG than gzip, and must come first: the kernel does not find the
# exact end of a gzip member).  QEMU with its libraries, loader and firmware is
# about 50 MB: built once per qemu-system-x86 version, kept in $OUT.
#
# Which QEMU: Debian's 1:7.2+dfsg-7+deb12u18 took upstream's df32e5c568c
# ("i386/cpu: Prevent delivering SIPI during SMM in TCG mode") without its
# follow-up d5e1d2dea11b ("target/i386: clear CPU_INTERRUPT_SIPI for all
# accelerators"): with kernel-irqchip=off an AP's SIPI stays pending after
# delivery, and once the AP halts its vCPU thread spins holding QEMU's big
# lock: a -smp 2 guest hangs in SeaBIOS (on KVM too).  The rig takes
# the qemu-system-x86_64 binary, unchanged, from the last Debian build
# before that (bookworm-security's deb12u15: apt-get download, kept in
# $OUT); MVMRIG_QEMU_VERSION=installed takes the installed one, and any
# other value that Debian version.
qwant=${MVMRIG_QEMU_VERSION:-1:7.2+dfsg-7+deb12u15}
qemu_bin=/usr/bin/qemu-system-x86_64
qver=$(dpkg-query -W -f='${Version}' qemu-system-x86) || die "qemu-system-x86 is not installed"
if [ "$qwant" != installed ]; then
	qdeb=$OUT/qemu-deb-$(echo "$qwant" | tr -c 'A-Za-z0-9.\n' '_')
	if [ ! -x "$qdeb/usr/bin/qemu-system-x86_64" ]; then
		rm -rf "$qdeb"
		mkdir -p "$qdeb"
		if (cd "$qdeb" && apt-get download -q "qemu-system-x86=$qwant" >/dev/null 2>&1) &&
		   dpkg-deb -x "$qdeb"/qemu-system-x86_*.deb "$qdeb"; then
			rm -f "$qdeb"/qemu-system-x86_*.deb
		else
			echo "rig: cannot get qemu-system-x86 $qwant; using the installed $qver (qemu_boot_smp2 will hang)" >&2
			rm -rf "$qdeb"
		fi
	fi
	if [ -x "$qdeb/usr/bin/qemu-system-x86_64" ]; then
		qemu_bin=$qdeb/usr/bin/qemu-system-x86_64
		qver=$qwant
	fi
fi
qcpio=$OUT/qemu-$(echo "$qver" | tr -c 'A-Za-z0-9.\n' '_').cpio
if [ ! -f "$qcpio" ]; then
	q=$OUT/qemu-root
	rm -rf "$q"
	mkdir -p "$q/usr/share/qemu" "$q/usr/share/seabios"
	install -D "$qemu_bin" "$q/usr/bin/qemu-system-x86_64"
	for lib in $(ldd "$qemu_bin" | grep -o '/[^ ]*'); do
		cp -L --parents "$lib" "$q/"
	done
	# What QEMU reads at run time with -nodefaults -kernel (strace).
	cp /usr/share/seabios/bios-256k.bin "$q/usr/share/seabios/"
	cp /usr/share/qemu/linuxboot_dma.bin /usr/share/qemu/kvmvapic.bin \
		"$q/usr/share/qemu/"
	(cd "$q" && find . | cpio -o -H newc --quiet) > "$qcpio.tmp"
	mv "$qcpio.tmp" "$qcpio"
	rm -rf "$q"
fi
# The nested guest: Debian's kernel (the one the rig boots) and a busybox
# initramfs whose /init prints a marker with its uptime and powers off.
n=$KOUT/nested-root
rm -rf "$n"
mkdir -p "$n/guest/bin" "$n/guest/dev" "$n/guest/proc" "$n/nested"
cp /bin/busybox "$n/guest/bin/"
cp "$RIG/nested-init" "$n/guest/init"
(cd "$n/guest" && find . | cpio -o -H newc --quiet | gzip -1) > "$n/nested/initrd.gz"
cp "$VMLINUZ" "$n/nested/vmlinuz"
(cd "$n" && find nested | cpio -o -H newc --quiet) > "$KOUT/nested.cpio"
rm -rf "$n"
cat "$qcpio" "$KOUT/nested.cpio" "$KOUT/initrd.gz" > "$KOUT/initrd-qemu.gz"
echo "$qcpio" > "$KOUT/qemu-cpio.path"

# Bochs has no -kernel: an isolinux CD, one per mode, the mode on the
# kernel command line (and MVMRIG_ISO_APPEND: words for Bochs only).
for mode in tests run bench; do
	iso=$KOUT/iso-$mode
	rm -rf "$iso"
	mkdir -p "$iso/isolinux"
	cp /usr/lib/ISOLINUX/isolinux.bin /usr/lib/syslinux/modules/bios/ldlinux.c32 \
		"$iso/isolinux/"
	cp "$VMLINUZ" "$iso/vmlinuz"
	cp "$KOUT/initrd.gz" "$iso/initrd.gz"
	cat > "$iso/isolinux/isolinux.cfg" <<CFG
default mvm
prompt 0
timeout 0
label mvm
  kernel /vmlinuz
  append initrd=/initrd.gz console=ttyS0 quiet panic=-1 $(giant_append "$mode") MVMRIG_MODE=$mode MVMRIG_PHASES=${MVMRIG_PHASES:-kvm,mvm,module} ${MVMRIG_APPEND:-} ${MVMRIG_ISO_APPEND:-}
CFG
	xorriso -as mkisofs -quiet -o "$KOUT/$mode.iso" -b isolinux/isolinux.bin \
		-c isolinux/boot.cat -no-emul-boot -boot-load-size 4 \
		-boot-info-table "$iso" 2>/dev/null
done
echo "rig: initramfs and ISOs for $KVER in $KOUT"
