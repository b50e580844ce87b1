// SPDX-License-Identifier: GPL-2.0
/*
 * mvm-stat: a live view of the VMs mvm runs, from its debugfs files
 * (/sys/kernel/debug/mvm/<pid>-<vm fd>/, one file per statistic, the vCPU
 * ones summed over the VM's vCPUs; see Documentation/virt/mvm/api.rst).
 *
 * For each VM, over each interval: exits per second by reason, the median
 * and 99th percentile of each reason's exit latency (from the log2
 * histograms exit_latency_<reason>: cycles from the VM exit to the next
 * entry, or to the return to userspace), and where the vCPUs' time went:
 * in the guest, in mvm, halted, in userspace.
 *
 *   mvm-stat                 refresh every second until interrupted
 *   mvm-stat --once --json   one interval, JSON on stdout, for scripts
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#define MAX_VMS		64
#define MAX_REASONS	64
#define MAX_BUCKETS	64
#define NAME_LEN	64

struct reason {
	char name[NAME_LEN];
	uint64_t exits;
	uint64_t hist[MAX_BUCKETS];
	int buckets;
};

struct vm_sample {
	char name[NAME_LEN];	/* <pid>-<vm fd> */
	uint64_t exits, online_vcpus, tsc_khz;
	uint64_t guest, mvm, halt, user;	/* cycles */
	struct reason reasons[MAX_REASONS];
	int nr_reasons;
};

static const char *debugfs = "/sys/kernel/debug/mvm";
static volatile sig_atomic_t stop;

static void usage(FILE *f)
{
	fprintf(f,
"usage: mvm-stat [options]\n"
"A live view of the VMs mvm runs, from %s.\n"
"\n"
"  -i, --interval SEC  seconds between samples (default 1; fractions allowed)\n"
"  -n, --count N       stop after N refreshes\n"
"  -1, --once          one interval, printed once\n"
"  -j, --json          JSON instead of the table (with --once: one object)\n"
"  -d, --dir DIR       the debugfs directory (default %s)\n"
"  -h, --help          this text\n"
"\n"
"Per VM: exits/s by reason (vendor-neutral names), the median and 99th\n"
"percentile of each reason's exit latency in ns (cycles from the VM exit\n"
"to the next entry or to the return to userspace, from the log2\n"
"histograms: the value is interpolated inside a power-of-two bucket), and\n"
"the vCPUs' time: in the guest, in mvm, halted in mvm, in userspace.\n"
"Needs root (debugfs).  Percentiles cover the interval, or the VM's\n"
"whole life when no exit of that reason fell in the interval.\n",
		debugfs, debugfs);
}

/* The values of a debugfs file: one, or a histogram's buckets. */
static int read_values(const char *dir, const char *file, uint64_t *v, int max)
{
	char path[1024];
	unsigned long long x;
	int n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (n < max && fscanf(f, "%llu", &x) == 1)
		v[n++] = x;
	fclose(f);
	return n;
}

static uint64_t read_one(const char *dir, const char *file)
{
	uint64_t v = 0;

	read_values(dir, file, &v, 1);
	return v;
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(((const struct reason *)a)->name,
		      ((const struct reason *)b)->name);
}

static int sample_vm(const char *name, struct vm_sample *s)
{
	char dir[512], file[NAME_LEN + 16];
	struct dirent *de;
	DIR *d;

	memset(s, 0, sizeof(*s));
	snprintf(s->name, sizeof(s->name), "%s", name);
	snprintf(dir, sizeof(dir), "%s/%s", debugfs, name);
	d = opendir(dir);
	if (!d)
		return -1;
	/* exits_<reason> with its exit_latency_<reason>: a neutral reason. */
	while ((de = readdir(d)) && s->nr_reasons < MAX_REASONS) {
		struct reason *r = &s->reasons[s->nr_reasons];
		int n;

		if (strncmp(de->d_name, "exits_", 6) ||
		    strlen(de->d_name + 6) >= NAME_LEN)
			continue;
		snprintf(r->name, sizeof(r->name), "%s", de->d_name + 6);
		snprintf(file, sizeof(file), "exit_latency_%s", r->name);
		n = read_values(dir, file, r->hist, MAX_BUCKETS);
		if (n <= 0)
			continue;
		r->buckets = n;
		r->exits = read_one(dir, de->d_name);
		s->nr_reasons++;
	}
	closedir(d);
	qsort(s->reasons, s->nr_reasons, sizeof(s->reasons[0]), cmp_name);
	s->exits = read_one(dir, "exits");
	s->online_vcpus = read_one(dir, "online_vcpus");
	s->tsc_khz = read_one(dir, "host_tsc_khz");
	s->guest = read_one(dir, "guest_cycles");
	s->mvm = read_one(dir, "mvm_cycles");
	s->halt = read_one(dir, "halt_cycles");
	s->user = read_one(dir, "user_cycles");
	return 0;
}

static int sample_all(struct vm_sample *vms)
{
	struct dirent *de;
	int n = 0;
	DIR *d;

	d = opendir(debugfs);
	if (!d)
		return -1;
	while ((de = readdir(d)) && n < MAX_VMS) {
		if (de->d_name[0] == '.')
			continue;
		if (!sample_vm(de->d_name, &vms[n]))
			n++;
	}
	closedir(d);
	return n;
}

/*
 * The @p quantile (0..1) of a log2 histogram: bucket 0 holds 0, bucket i
 * [2^(i-1), 2^i), the last everything above; linear inside a bucket.
 */
static double hist_quantile(const uint64_t *h, int n, double p)
{
	uint64_t total = 0, seen = 0;
	double want, lo, hi;
	int i;

	for (i = 0; i < n; i++)
		total += h[i];
	if (!total)
		return 0;
	want = p * total;
	for (i = 0; i < n; i++) {
		if (!h[i] || seen + h[i] < want) {
			seen += h[i];
			continue;
		}
		if (i == 0)
			return 0;
		lo = (double)(1ull << (i - 1));
		hi = i == n - 1 ? lo * 2 : (double)(1ull << i);
		return lo + (hi - lo) * (want - seen) / h[i];
	}
	return (double)(1ull << (n - 2));
}

struct reason_view {
	const char *name;
	uint64_t exits, delta;
	double rate, p50, p99;	/* ns, or cycles without a TSC rate */
};

struct vm_view {
	const struct vm_sample *now;
	double secs;
	uint64_t delta_exits;
	double guest_pct, mvm_pct, halt_pct, user_pct;
	struct reason_view r[MAX_REASONS];
	int nr;
};

static int cmp_rate(const void *a, const void *b)
{
	const struct reason_view *x = a, *y = b;

	if (x->delta != y->delta)
		return x->delta < y->delta ? 1 : -1;
	if (x->exits != y->exits)
		return x->exits < y->exits ? 1 : -1;
	return strcmp(x->name, y->name);
}

static const struct vm_sample *find_vm(const struct vm_sample *vms, int n,
				       const char *name)
{
	int i;

	for (i = 0; i < n; i++)
		if (!strcmp(vms[i].name, name))
			return &vms[i];
	return NULL;
}

static void build_view(struct vm_view *v, const struct vm_sample *now,
		       const struct vm_sample *then, double secs)
{
	uint64_t guest, mvm, halt, user, all;
	double scale;
	int i, j;

	memset(v, 0, sizeof(*v));
	v->now = now;
	v->secs = secs;
	/* A VM that appeared during the interval: from its start. */
	v->delta_exits = now->exits - (then ? then->exits : 0);
	guest = now->guest - (then ? then->guest : 0);
	mvm = now->mvm - (then ? then->mvm : 0);
	halt = now->halt - (then ? then->halt : 0);
	user = now->user - (then ? then->user : 0);
	if (halt > mvm)
		halt = mvm;
	all = guest + mvm + user;
	if (all) {
		v->guest_pct = 100.0 * guest / all;
		v->mvm_pct = 100.0 * (mvm - halt) / all;
		v->halt_pct = 100.0 * halt / all;
		v->user_pct = 100.0 * user / all;
	}
	scale = now->tsc_khz ? 1e6 / now->tsc_khz : 1;
	for (i = 0; i < now->nr_reasons; i++) {
		const struct reason *r = &now->reasons[i];
		const struct reason *o = NULL;
		struct reason_view *rv = &v->r[v->nr++];
		uint64_t h[MAX_BUCKETS];

		if (then)
			for (j = 0; j < then->nr_reasons; j++)
				if (!strcmp(then->reasons[j].name, r->name))
					o = &then->reasons[j];
		rv->name = r->name;
		rv->exits = r->exits;
		rv->delta = r->exits - (o ? o->exits : 0);
		rv->rate = secs > 0 ? rv->delta / secs : 0;
		for (j = 0; j < r->buckets; j++)
			h[j] = r->hist[j] - (o && rv->delta ? o->hist[j] : 0);
		rv->p50 = hist_quantile(h, r->buckets, 0.50) * scale;
		rv->p99 = hist_quantile(h, r->buckets, 0.99) * scale;
	}
	qsort(v->r, v->nr, sizeof(v->r[0]), cmp_rate);
}

static void print_table(const struct vm_view *views, int n)
{
	int i, j;

	printf("mvm-stat: %d VM%s, interval %.2f s\n", n, n == 1 ? "" : "s",
	       n ? views[0].secs : 0.0);
	for (i = 0; i < n; i++) {
		const struct vm_view *v = &views[i];
		const char *unit = v->now->tsc_khz ? "ns" : "cyc";

		printf("\nVM %s: %llu vCPU%s, %.0f exits/s, time: guest %.1f%%  mvm %.1f%%  halted %.1f%%  userspace %.1f%%\n",
		       v->now->name, (unsigned long long)v->now->online_vcpus,
		       v->now->online_vcpus == 1 ? "" : "s",
		       v->secs > 0 ? v->delta_exits / v->secs : 0.0,
		       v->guest_pct, v->mvm_pct, v->halt_pct, v->user_pct);
		printf("  %-20s %12s %14s %12s %12s\n", "reason", "exits/s",
		       "total", unit[0] == 'n' ? "p50 ns" : "p50 cyc",
		       unit[0] == 'n' ? "p99 ns" : "p99 cyc");
		for (j = 0; j < v->nr; j++) {
			const struct reason_view *r = &v->r[j];

			if (!r->exits)
				continue;
			printf("  %-20s %12.1f %14llu %12.0f %12.0f\n", r->name,
			       r->rate, (unsigned long long)r->exits, r->p50,
			       r->p99);
		}
	}
	fflush(stdout);
}

static void print_json(const struct vm_view *views, int n)
{
	int i, j;
	bool first;

	printf("{\"interval_s\": %.3f, \"vms\": [", n ? views[0].secs : 0.0);
	for (i = 0; i < n; i++) {
		const struct vm_view *v = &views[i];

		printf("%s\n  {\"vm\": \"%s\", \"vcpus\": %llu, \"tsc_khz\": %llu, "
		       "\"exits\": %llu, \"exits_per_s\": %.1f,\n"
		       "   \"time_pct\": {\"guest\": %.2f, \"mvm\": %.2f, "
		       "\"halted\": %.2f, \"userspace\": %.2f},\n"
		       "   \"reasons\": {", i ? "," : "", v->now->name,
		       (unsigned long long)v->now->online_vcpus,
		       (unsigned long long)v->now->tsc_khz,
		       (unsigned long long)v->now->exits,
		       v->secs > 0 ? v->delta_exits / v->secs : 0.0,
		       v->guest_pct, v->mvm_pct, v->halt_pct, v->user_pct);
		first = true;
		for (j = 0; j < v->nr; j++) {
			const struct reason_view *r = &v->r[j];
			const char *u = v->now->tsc_khz ? "ns" : "cycles";

			if (!r->exits)
				continue;
			printf("%s\n     \"%s\": {\"exits\": %llu, \"per_s\": %.1f, "
			       "\"p50_%s\": %.0f, \"p99_%s\": %.0f}",
			       first ? "" : ",", r->name,
			       (unsigned long long)r->exits, r->rate, u, r->p50,
			       u, r->p99);
			first = false;
		}
		printf("}}");
	}
	printf("\n]}\n");
	fflush(stdout);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "interval", required_argument, NULL, 'i' },
		{ "count", required_argument, NULL, 'n' },
		{ "once", no_argument, NULL, '1' },
		{ "json", no_argument, NULL, 'j' },
		{ "dir", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static struct vm_sample a[MAX_VMS], b[MAX_VMS];
	static struct vm_view views[MAX_VMS];
	struct vm_sample *then = a, *now = b, *t;
	double interval = 1, t0, t1;
	bool json = false;
	long count = -1;
	int c, n_then, n_now, i;

	while ((c = getopt_long(argc, argv, "i:n:1jd:h", opts, NULL)) != -1) {
		switch (c) {
		case 'i':
			interval = atof(optarg);
			if (interval <= 0) {
				fprintf(stderr, "mvm-stat: bad interval %s\n", optarg);
				return 2;
			}
			break;
		case 'n':
			count = atol(optarg);
			break;
		case '1':
			count = 1;
			break;
		case 'j':
			json = true;
			break;
		case 'd':
			debugfs = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}

	n_then = sample_all(then);
	if (n_then < 0) {
		fprintf(stderr, "mvm-stat: %s: %s (is mvm loaded, debugfs mounted, are you root?)\n",
			debugfs, strerror(errno));
		return 1;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	t0 = now_s();
	while (!stop && count != 0) {
		usleep((useconds_t)(interval * 1e6));
		n_now = sample_all(now);
		t1 = now_s();
		if (n_now < 0)
			n_now = 0;
		for (i = 0; i < n_now; i++)
			build_view(&views[i], &now[i],
				   find_vm(then, n_then, now[i].name), t1 - t0);
		if (!json && count != 1)
			printf("\033[H\033[2J");
		if (json)
			print_json(views, n_now);
		else
			print_table(views, n_now);
		t = then;
		then = now;
		now = t;
		n_then = n_now;
		t0 = t1;
		if (count > 0)
			count--;
	}
	return 0;
}
