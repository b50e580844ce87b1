#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build the initramfs (and the Bochs ISO) the rig boots: busybox, mvm.ko,
# Debian's KVM modules, the selftests, the example VMM and the life-cycle
# checks.  Usage: build.sh  (mvm.ko must be built).
set -e
. "$(dirname "$0")/lib.sh"

[ -n "$KVER" ] || die "no linux-headers-*-cloud-amd64 installed (make deps)"
[ -f "$TOP/mvm.ko" ] || die "mvm.ko is not built"

root=$OUT/initramfs
rm -rf "$root"
mkdir -p "$root"/{bin,dev,proc,sys,tmp,m,tests,lifecycle}

make -s -C "$TOP/tools/testing/selftests/mvm" OUTPUT="$OUT/selftests" \
	DESTDIR="$root/tests" install
make -s -C "$TOP/tools/vmm" OUTPUT="$OUT"
make -s -C "$TOP/tools/mvm-bench" OUTPUT="$OUT"
gcc -O2 -Wall -static -o "$root/coexist" "$RIG/coexist.c"
gcc -O2 -Wall -static -o "$root/holdfd" "$RIG/holdfd.c"

cp /bin/busybox "$root/bin/busybox"
cp "$RIG/init" "$root/init"
cp "$RIG"/lifecycle/*.sh "$root/lifecycle/"
cp "$TOP/mvm.ko" "$OUT/mvm-vmm" "$OUT/hello.bin" "$root/"
[ -x "$OUT/mvm-bench" ] && cp "$OUT/mvm-bench" "$root/"

# Debian's KVM, for the same tests against the real thing.
for m in virt/lib/irqbypass arch/x86/kvm/kvm arch/x86/kvm/kvm-amd \
	 arch/x86/kvm/kvm-intel; do
	f=$(ls "$MODDIR/$m".ko* 2>/dev/null | head -n 1)
	[ -n "$f" ] || die "missing $MODDIR/$m.ko"
	case "$f" in
	*.xz)  xz -dc "$f" > "$root/m/$(basename "$m").ko" ;;
	*.zst) zstd -qdc "$f" > "$root/m/$(basename "$m").ko" ;;
	*)     cp "$f" "$root/m/" ;;
	esac
done

(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) > "$OUT/initrd.gz"

# Bochs has no -kernel: an isolinux CD, one per mode, the mode on the
# kernel command line.
for mode in tests run bench; do
	iso=$OUT/iso-$mode
	rm -rf "$iso"
	mkdir -p "$iso/isolinux"
	cp /usr/lib/ISOLINUX/isolinux.bin /usr/lib/syslinux/modules/bios/ldlinux.c32 \
		"$iso/isolinux/"
	cp "$VMLINUZ" "$iso/vmlinuz"
	cp "$OUT/initrd.gz" "$iso/initrd.gz"
	cat > "$iso/isolinux/isolinux.cfg" <<CFG
default mvm
prompt 0
timeout 0
label mvm
  kernel /vmlinuz
  append initrd=/initrd.gz console=ttyS0 quiet panic=-1 MVMRIG_MODE=$mode MVMRIG_PHASES=${MVMRIG_PHASES:-kvm,mvm,module} ${MVMRIG_APPEND:-}
CFG
	xorriso -as mkisofs -quiet -o "$OUT/$mode.iso" -b isolinux/isolinux.bin \
		-c isolinux/boot.cat -no-emul-boot -boot-load-size 4 \
		-boot-info-table "$iso" 2>/dev/null
done
echo "rig: initramfs and ISOs in $OUT"
