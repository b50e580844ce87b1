#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# boot.sh CONFIG MODE LOG: boot the rig's initramfs in one emulator.
#   CONFIG: svm (QEMU -cpu EPYC), svm57 (QEMU -cpu EPYC,+la57,+pku: an
#           AMD-V host with 5-level paging), vmx (Bochs corei7_skylake_x),
#           novirt (QEMU -cpu qemu64,-svm: no VT-x, no AMD-V)
#   MODE:   tests | run | bench | negative (passed to /init)
# MVMRIG_SMP: CPUs of the QEMU hosts (1 by default; 2 puts vCPU threads
# on different CPUs, for the IPI paths of mvm_vcpu_kick()).
# The serial console goes to LOG.  A guest that does not power off in
# time is killed, and the log says so.  MVMRIG_DEBUG_QEMU adds options to
# the QEMU boots, e.g. "-gdb tcp::41234 -monitor unix:/tmp/mon,server,nowait"
# to look at a wedged test kernel (info lapic, info registers).
set -u
. "$(dirname "$0")/lib.sh"
config=$1 mode=$2 log=$3
# The boot's own time limit, a backstop for a wedged test kernel (init
# limits each test program to MVMRIG_TIMEOUT).  Boots run side by side:
# here the Bochs leg took 12 minutes and the svm boot on 6.1 10, and CI
# machines ran the whole check 2.2 times slower (a 1500 s limit cut the
# Bochs leg of a CI run short, 2026-11-30): an hour.
limit=${MVMRIG_BOOT_TIMEOUT:-3600}

# tsc=reliable: TCG's TSC runs at a constant rate from the host's clock,
# but emulation latency can make the kernel's clocksource watchdog call it
# unstable (seen on svm57), and then neither KVM nor mvm can keep guest
# TSCs in step (tsc_test, kvmclock_test).  no_timer_check: on a loaded
# host the kernel's early check that the PIT ticks through the IO-APIC
# can miss its window under TCG and panic ("IO-APIC + timer doesn't
# work!", both novirt boots of one make check, 2026-11-30); what cloud
# images pass to their KVM guests for the same reason.
qemu() {	# $1: cpu model
	# The configs in MVMRIG_QEMU_CONFIGS (svm by default) also carry QEMU
	# and its nested guest for the qemu_boot_* checks (build.sh).
	local initrd=$KOUT/initrd.gz
	case " ${MVMRIG_QEMU_CONFIGS-svm} " in
	*" $config "*) [ "$mode" = run ] || initrd=$KOUT/initrd-qemu.gz ;;
	esac
	# Tests: 3 GiB, the 2 GiB of the other modes and 1 GiB for
	# giant_append (QEMU loads the initramfs at the top of RAM, so one
	# aligned GiB below stays free for it).
	local mem=2G
	[ "$mode" = tests ] && mem=3G
	set -- -accel tcg -cpu "$1" -m $mem -smp ${MVMRIG_SMP:-1} ${MVMRIG_DEBUG_QEMU:-} \
		-nographic -no-reboot -kernel "$VMLINUZ" -initrd "$initrd" \
		-append "console=ttyS0 quiet panic=-1 tsc=reliable no_timer_check $(giant_append "$mode") MVMRIG_MODE=$mode MVMRIG_PHASES=${MVMRIG_PHASES:-kvm,mvm,module} MVMRIG_BENCH_ROUNDS=${MVMRIG_BENCH_ROUNDS:-1} ${MVMRIG_APPEND:-}"
	# make run on a terminal: the serial console is the terminal.
	if [ "$mode" = run ] && [ "${MVMRIG_INTERACTIVE:-0}" = 1 ]; then
		qemu-system-x86_64 "$@"
		return
	fi
	timeout "$limit" qemu-system-x86_64 "$@" </dev/null >"$log" 2>"$log.stderr"
}

bochs() {
	local dir=$KOUT/bochs-$mode memory="megs: 2048"
	mkdir -p "$dir"
	# Its own copy of the CD: check.sh rebuilds the ISOs while Bochs runs.
	cp "$KOUT/$mode.iso" "$dir/$mode.iso"
	# Tests: Bochs' BIOS gives at most 3 GiB below 4 GiB, with its ACPI
	# tables at the top, and isolinux loads the initramfs just below 2 GiB:
	# the GiB for giant_append (build.sh) is the first above 4 GiB, free
	# when there is RAM above it for the kernel's early allocations.
	# host=: Bochs' own memory pool (at most 2048 MiB), taken block by
	# block as the guest first touches its RAM.
	[ "$mode" = tests ] && memory="memory: guest=6144, host=2048"
	cat > "$dir/bochsrc" <<RC
$memory
cpu: model=corei7_skylake_x, count=1, ips=200000000
romimage: file=/usr/share/bochs/BIOS-bochs-latest
vgaromimage: file=/usr/share/bochs/VGABIOS-lgpl-latest
ata0-master: type=cdrom, path=$dir/$mode.iso, status=inserted
boot: cdrom
com1: enabled=1, mode=file, dev=$log
display_library: term
clock: sync=none, time0=local
speaker: enabled=0
log: $dir/bochs.log
RC
	echo c > "$dir/rc"
	rm -f "$log"
	(cd "$dir" && TERM=xterm timeout "$limit" script -qfc \
		"bochs-bin -q -f bochsrc -rc rc" /dev/null </dev/null \
		>"$log.stderr" 2>&1) &
	local run=$!
	bochs_drain_screen "$log.stderr" "$run" &
	wait "$run"
}

# With its debugger built in (Debian's), Bochs' term display draws the
# screen on a new pseudo-terminal of its own ("Bochs connected to screen
# /dev/pts/N" on stderr) for the user to attach to.  Nobody reads it in
# the rig, and once its buffers are full Bochs sleeps in write() for good
# (after about 6 minutes of a loaded vmx run, 2026-11-30: the serial log
# stopped mid-line until the rig's timeout).  Read it into /dev/null until
# Bochs closes it.
bochs_drain_screen() {	# $1: Bochs' stderr log, $2: the pid to outlive
	local pts="" i
	for i in $(seq 600); do
		pts=$(sed -n 's|.*Bochs connected to screen "\(/dev/pts/[0-9]*\)".*|\1|p' "$1" 2>/dev/null | head -n 1)
		[ -n "$pts" ] && break
		kill -0 "$2" 2>/dev/null || return 0
		sleep 0.2
	done
	[ -n "$pts" ] || return 0
	stty -F "$pts" raw -echo 2>/dev/null
	cat "$pts" >/dev/null 2>&1
}

# LOG.times: the wall-clock second (from the start of the boot) at which
# each test program started and ended, and each of its tests ended (its
# TAP line), to see where an emulator's time goes.
stamp_log() {	# $1: the serial log
	local line
	tail --pid=$$ -F -n +1 "$1" 2>/dev/null | while IFS= read -r line; do
		line=${line%$'\r'}
		case "$line" in
		*"@@ "*" start" | *"@@ "*" rc="* | *"@@ "*" | ok "* | \
		*"@@ "*" | not ok "*)
			echo "$(( $(date +%s) - start )) ${line#*@@ }" ;;
		esac
	done > "$1.times"
}

start=$(date +%s)
rm -f "$log"
[ "$mode" = run ] || stamp_log "$log" &
case "$config" in
svm)	qemu EPYC ;;
svm57)	qemu EPYC,+la57,+pku ;;
novirt)	qemu qemu64,-svm,-vmx ;;
vmx)	bochs ;;
*)	die "unknown config $config" ;;
esac
rc=$?
echo "rig: $config/$mode on $KVER took $(( $(date +%s) - start )) s (rc $rc)" >&2
[ $rc = 124 ] && echo "@@ rig timeout after $limit s" >> "$log"
exit 0
