#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make check: every selftest on AMD-V (QEMU -cpu EPYC, and EPYC with
# 5-level paging) and VT-x (Bochs),
# each against Debian's KVM and against mvm, the module life-cycle checks,
# and a host without virtualization (QEMU -cpu qemu64) where mvm.ko must
# refuse to load.  Prints a table and ends with "N passed, N failed".
#
# MVMRIG_CONFIGS="svm svm57 vmx novirt" picks the boots (all by default).
set -u
. "$(dirname "$0")/lib.sh"

configs=${MVMRIG_CONFIGS:-svm svm57 vmx novirt}
"$RIG/build.sh" || die "build failed"

start=$(date +%s)
pids=
for c in $configs; do
	mode=tests
	[ "$c" = novirt ] && mode=negative
	"$RIG/boot.sh" "$c" "$mode" "$OUT/$c.log" &
	pids="$pids $!"
done
wait $pids

{
	for c in $configs; do
		mode=tests
		[ "$c" = novirt ] && mode=negative
		echo "@@file $c $mode"
		cat "$OUT/$c.log" 2>/dev/null
	done
} > "$OUT/all.log"
awk -f "$RIG/report.awk" "$TOP/tools/testing/selftests/mvm/kvm-skips.txt" \
	"$OUT/all.log" > "$OUT/results.txt"

# The table: one row per test program, one column per configuration,
# passed/total in each cell.
awk '
$1 == "R" {
	cfg = $2; row = $3; res = $4
	if (!(cfg in cols)) { cols[cfg] = 1; order[++nc] = cfg }
	if (!(row in rows)) { rows[row] = 1; rorder[++nr] = row }
	tot[row, cfg]++
	if (res == "PASS") pass[row, cfg]++
	if (res == "SKIP") skp[row, cfg]++
}
END {
	printf "\n%-28s", "test"
	for (i = 1; i <= nc; i++) printf " %11s", order[i]
	printf "\n"
	for (r = 1; r <= nr; r++) {
		printf "%-28s", rorder[r]
		for (i = 1; i <= nc; i++) {
			k = rorder[r] SUBSEP order[i]
			if (!(k in tot)) cell = "-"
			else cell = (pass[k] + 0) "/" tot[k] (skp[k] ? " s" skp[k] : "")
			printf " %11s", cell
		}
		printf "\n"
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
	echo "Logs: $OUT/*.log"
fi
grep -q '^R .* SKIP' "$OUT/results.txt" &&
	echo "Skipped on KVM (mvm-only, listed in kvm-skips.txt):" &&
	grep '^R .* SKIP' "$OUT/results.txt" | awk '{print "  " $2 " " $5}'

# Checks that do not run by default because of a known bug: loud, and
# never counted as passed.
cat "$OUT"/*.log 2>/dev/null | tr -d '\r' | grep -a '^@@ NOT RUN ' | sort -u |
	sed 's/^@@ NOT RUN /NOT RUN (known bug, not counted): /'

passed=$(grep -c '^R .* PASS' "$OUT/results.txt")
failed=$(grep -c '^R .* FAIL' "$OUT/results.txt")
skipped=$(grep -c '^R .* SKIP' "$OUT/results.txt")
echo "rig: boots took $(( $(date +%s) - start )) s"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ] && [ "$passed" -gt 0 ]
