#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make check: every selftest on AMD-V (QEMU -cpu EPYC, and EPYC with
# 5-level paging) and VT-x (Bochs), each against Debian's KVM and against
# mvm, the module life-cycle checks, and a host without virtualization
# (QEMU -cpu qemu64) where mvm.ko must refuse to load; each on two kernel
# series (kver.sh: Debian's 6.1 and 6.12 cloud kernels), with that
# kernel's own kvm.ko for the reference runs.  Then the packaging checks
# (pkg-check.sh).  Prints a table per kernel and ends with
# "N passed, N failed".
#
# MVMRIG_CONFIGS="svm svm57 vmx novirt" picks the boots (all by default).
# MVMRIG_KERNELS="6.1 6.12" picks the kernel series (both by default).
# MVMRIG_VMX_KERNELS: the series the slow Bochs leg (vmx) boots, "6.1" by
# default (make check); make check-all sets "6.1 6.12".
# MVMRIG_VMX_KVM=1 runs the KVM reference phase in the Bochs leg too
# (make check-all); make check leaves it out.  What is left out is named
# in the summary as NOT RUN.
# MVMRIG_SVM57_KERNELS: the series the LA57 QEMU boot (svm57) uses, "6.1"
# by default: Debian's 6.12 kernel under TCG with 5-level paging measured
# its TSC up to ten times off under load (2026-11-30: 50 ms came out as
# 12.9 and 21.4 million cycles), and every timing test there then failed on
# KVM and on mvm alike (tsc_test, pit_test, lifecycle_test timeouts).  Not
# mvm's; not fixed yet.  make check-all sets "6.1 6.12".
# MVMRIG_PKG=0 leaves out the packaging checks.
set -u
. "$(dirname "$0")/lib.sh"

configs=${MVMRIG_CONFIGS:-svm svm57 vmx novirt}
kernels=${MVMRIG_KERNELS:-6.1 6.12}
vmx_kernels=" ${MVMRIG_VMX_KERNELS:-6.1} "
svm57_kernels=" ${MVMRIG_SVM57_KERNELS:-6.1} "

# The boots: "config series release" per line.
boots=$OUT/boots.txt
notrun=$OUT/not-run.txt
mkdir -p "$OUT"
: > "$boots"
: > "$notrun"
for c in $configs; do
	for k in $kernels; do
		rel=$("$RIG/kver.sh" "$k")
		if [ "$c" = vmx ] && [ "${vmx_kernels#* $k }" = "$vmx_kernels" ]; then
			echo "vmx on $k ($rel): the Bochs leg boots one kernel in make check; make check-all boots both" >> "$notrun"
			continue
		fi
		if [ "$c" = svm57 ] && [ "${svm57_kernels#* $k }" = "$svm57_kernels" ]; then
			echo "svm57 on $k ($rel): its TSC calibration under TCG with LA57 breaks every timing test, KVM's and mvm's (check.sh); make check-all boots it" >> "$notrun"
			continue
		fi
		echo "$c $k $rel" >> "$boots"
	done
done
[ -s "$boots" ] || die "nothing to boot"

boot() {	# $1: config, $2: series, $3: release
	local mode=tests
	[ "$1" = novirt ] && mode=negative
	KVER=$3 "$RIG/boot.sh" "$1" "$mode" "$OUT/$1-$2.log" </dev/null &
	pids="$pids $!"
}

build() {	# $1: what for
	local k rel
	for k in $kernels; do
		rel=$("$RIG/kver.sh" "$k")
		[ -n "$rel" ] || die "no headers of kernel series $k installed (make deps)"
		KVER=$rel "$RIG/build.sh" >/dev/null || die "build for $rel failed"
	done
	echo "rig: $1 built after $(( $(date +%s) - start )) s"
}

# Bochs (the longest boot by far) starts first, with every boot but svm;
# the packaging checks (pkg-check.sh) run meanwhile, then the svm boots,
# whose initramfs carry the package as pkg-check.sh installed it
# (build.sh --pkg, lifecycle/modprobe.sh).
start=$(date +%s)
pids=
[ "${MVMRIG_VMX_KVM:-0}" = 1 ] || export MVMRIG_ISO_APPEND="MVMRIG_KVM_NOT_RUN=1"
build "initramfs and ISOs"
while read -r c k rel; do
	[ "$c" = vmx ] && boot "$c" "$k" "$rel"
done < "$boots"
while read -r c k rel; do
	[ "$c" = vmx ] || [ "$c" = svm ] || boot "$c" "$k" "$rel"
done < "$boots"
if [ "${MVMRIG_PKG:-1}" != 0 ]; then
	"$RIG/pkg-check.sh" > "$OUT/pkg.log" 2>&1
	echo "rig: packaging checks done after $(( $(date +%s) - start )) s"
	for k in $kernels; do
		KVER=$("$RIG/kver.sh" "$k") "$RIG/build.sh" --pkg ||
			echo "rig: no installed package in the svm boot on $k"
	done
fi
while read -r c k rel; do
	[ "$c" = svm ] && boot "$c" "$k" "$rel"
done < "$boots"
wait $pids

{
	while read -r c k rel; do
		mode=tests
		[ "$c" = novirt ] && mode=negative
		echo "@@file $c $mode $k"
		cat "$OUT/$c-$k.log" 2>/dev/null
	done < "$boots"
	if [ "${MVMRIG_PKG:-1}" != 0 ]; then
		echo "@@file pkg pkg host"
		cat "$OUT/pkg.log"
	fi
} > "$OUT/all.log"
awk -f "$RIG/report.awk" "$TOP/tools/testing/selftests/mvm/kvm-skips.txt" \
	"$TOP/tools/testing/selftests/mvm/kernel-skips.txt" \
	"$OUT/all.log" > "$OUT/results.txt"

# The tables: one per kernel series, one row per test program, one column
# per configuration (vendor/phase), passed/total in each cell.
echo
for k in $kernels; do
	echo "kernel $k: $("$RIG/kver.sh" "$k")"
done
awk '
$1 == "R" {
	cfg = $2; row = $3; res = $4
	kern = cfg; sub(/^[^@]*@/, "", kern); col = cfg; sub(/@.*/, "", col)
	if (!(kern in kerns)) { kerns[kern] = 1; korder[++nk] = kern }
	if (!((kern, col) in cols)) { cols[kern, col] = 1; order[kern, ++nc[kern]] = col }
	if (!((kern, row) in rows)) { rows[kern, row] = 1; rorder[kern, ++nr[kern]] = row }
	tot[kern, row, col]++
	if (res == "PASS") pass[kern, row, col]++
	if (res == "SKIP") skp[kern, row, col]++
}
END {
	for (j = 1; j <= nk; j++) {
		kn = korder[j]
		printf "\n%-28s", (kn == "host" ? "packaging (host)" : "on kernel " kn)
		for (i = 1; i <= nc[kn]; i++) printf " %11s", order[kn, i]
		printf "\n"
		for (r = 1; r <= nr[kn]; r++) {
			row = rorder[kn, r]
			printf "%-28s", row
			for (i = 1; i <= nc[kn]; i++) {
				k = kn SUBSEP row SUBSEP order[kn, i]
				if (!(k in tot)) cell = "-"
				else cell = (pass[k] + 0) "/" tot[k] (skp[k] ? " s" skp[k] : "")
				printf " %11s", cell
			}
			printf "\n"
		}
	}
}' "$OUT/results.txt"

echo
if grep -q '^R .* FAIL' "$OUT/results.txt"; then
	echo "Failures:"
	grep '^R .* FAIL' "$OUT/results.txt" | cut -d' ' -f2- | sed 's/^/  /'
	echo
	# The output of failed programs, and bad kernel log lines.
	grep '^R .* FAIL' "$OUT/results.txt" | awk '{print $2, $3}' | sort -u |
	while read -r cfg prog; do
		grep -F "O $cfg $prog " "$OUT/results.txt" | grep -v '^O .* ok [0-9]' |
			tail -n 15 | cut -d' ' -f2-
	done
	grep '^L ' "$OUT/results.txt" | grep -E 'Oops|WARNING|BUG|Call Trace|RIP:|sleeping|lockup|atomic' |
		head -n 40 | cut -d' ' -f2-
	echo "Logs: $OUT/<config>-<kernel>.log, $OUT/pkg.log"
fi
grep -q '^R .* SKIP' "$OUT/results.txt" &&
	echo "Skipped (mvm-only tests on KVM: kvm-skips.txt; tests a kernel cannot run: kernel-skips.txt):" &&
	grep '^R .* SKIP' "$OUT/results.txt" | awk '{print "  " $2 " " $5}'

# What did not run: loud, and never counted as passed.  Checks left out
# (init's "@@ NOT RUN" lines, each with its reason: a known bug, or left
# to make check-all), and boots this make check leaves to make check-all.
while read -r c k rel; do
	tr -d '\r' < "$OUT/$c-$k.log" 2>/dev/null | grep -a '^@@ NOT RUN ' | sort -u |
		sed "s/^@@ NOT RUN /NOT RUN (not counted) on $k: /"
done < "$boots"
sed 's/^/NOT RUN (make check-all runs it): /' "$notrun"

# The failures once more, last: CI keeps only the tail of the output.
grep -q '^R .* FAIL' "$OUT/results.txt" &&
	echo "Failed (the output above has each one's log):" &&
	grep '^R .* FAIL' "$OUT/results.txt" | cut -d' ' -f2- | sed 's/^/  FAIL /'
passed=$(grep -c '^R .* PASS' "$OUT/results.txt")
failed=$(grep -c '^R .* FAIL' "$OUT/results.txt")
skipped=$(grep -c '^R .* SKIP' "$OUT/results.txt")
echo "rig: the whole check took $(( $(date +%s) - start )) s (builds, packaging checks, boots)"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ] && [ "$passed" -gt 0 ]
