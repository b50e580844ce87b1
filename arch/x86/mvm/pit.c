// SPDX-License-Identifier: GPL-2.0
/*
 * The 8254 programmable interval timer (Intel 8254 datasheet, order no.
 * 231164), as KVM's in-kernel PIT shows it to the guest and to userspace:
 * KVM_CREATE_PIT2, KVM_GET/SET_PIT(2), KVM_REINJECT_CONTROL.
 *
 * Three counters on ports 0x40-0x42, the control word on 0x43, and with
 * KVM_PIT_SPEAKER_DUMMY port 0x61 (counter 2's gate, the speaker data bit,
 * OUT2).  A counter is not stepped: its value is computed when read from
 * the time it was loaded (count_load_time, ktime) and a fixed input clock.
 * Counter 0 drives GSI 0: an hrtimer fires at its terminal count (modes
 * 2 and 3 periodically, 0, 1 and 4 once) and a kthread worker pulses the
 * line.  As KVM, the timer runs only when the PIC and IOAPIC are in the
 * kernel and the HPET has not taken IRQ0 over (KVM_PIT_FLAGS_HPET_LEGACY).
 *
 * Reinjection (KVM's default): a tick is delivered only once the guest
 * acknowledged the previous one; ticks that fire meanwhile are counted
 * and delivered one per acknowledgement, so a guest that counts ticks to
 * keep time does not lose any while it was not scheduled.
 *
 * Where KVM's emulation differs from the datasheet the guest sees KVM's:
 * a low gate does not stop counting in modes 0, 2, 3 and 4, the status
 * byte's NULL COUNT bit reads 0, counter 0 in mode 1 fires once without a
 * gate trigger.  BCD counting follows the datasheet (KVM counts binary).
 *
 * Locking: pit->lock (a mutex) serializes the counters and the timer's
 * programming; the hrtimer callback, the worker and the ack notifier take
 * no lock (atomics), so the lock holder may cancel the timer and flush the
 * worker.  Inside pit->lock: mvm->arch.irq_lock (ack notifier list).
 */
#define pr_fmt(fmt) "mvm: " fmt

#include <linux/bcd.h>
#include <linux/hrtimer.h>
#include <linux/kthread.h>
#include <linux/math64.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include "x86.h"
#include "irq.h"

#define MVM_PIT_BASE_PORT	0x40
#define MVM_PIT_NR_PORTS	4	/* counters 0-2, control word */
#define MVM_PIT_CONTROL		3	/* offset of the control word port */
#define MVM_PIT_SPEAKER_PORT	0x61
#define MVM_PIT_SPEAKER_LEN	4	/* KVM's range; only 0x61 is served */
#define MVM_PIT_NR_CHANNELS	3
#define MVM_PIT_FREQ_HZ		1193182	/* the 14.31818 MHz crystal / 12 */

/*
 * The shortest period counter 0 may tick at: hrtimers are not throttled
 * by the scheduler, so a guest must not be able to program a storm.  As
 * KVM's min_timer_period_us default.
 */
#define MVM_PIT_MIN_PERIOD_NS	(200LL * NSEC_PER_USEC)

/* Port 0x61 (the PC's system control port B). */
#define MVM_SPEAKER_GATE2	BIT(0)
#define MVM_SPEAKER_DATA	BIT(1)
#define MVM_SPEAKER_REFRESH	BIT(4)
#define MVM_SPEAKER_OUT2	BIT(5)

/*
 * Read/write states of struct kvm_pit_channel_state (rw_mode, read_state,
 * write_state, count_latched): KVM's values, which userspace migrates.
 * LSB and MSB are also the control word's RW field; WORD0/WORD1 are the
 * two halves of its "LSB then MSB" access (RW = 3).
 */
enum {
	MVM_PIT_RW_LSB = 1,
	MVM_PIT_RW_MSB = 2,
	MVM_PIT_RW_WORD0 = 3,
	MVM_PIT_RW_WORD1 = 4,
};

/* Control word (datasheet "Control Word Format"). */
#define MVM_PIT_CW_SC(val)	((val) >> 6)		/* 3: read-back */
#define MVM_PIT_CW_RW(val)	(((val) >> 4) & 3)	/* 0: counter latch */
#define MVM_PIT_CW_MODE(val)	(((val) >> 1) & 7)
#define MVM_PIT_CW_BCD		BIT(0)
/* Read-back command: bits are active low. */
#define MVM_PIT_RB_NO_COUNT	BIT(5)
#define MVM_PIT_RB_NO_STATUS	BIT(4)
#define MVM_PIT_RB_COUNTER(ch)	BIT((ch) + 1)
/* Status byte: OUT, NULL COUNT (always 0, as KVM), RW, mode, BCD. */
#define MVM_PIT_STATUS_OUT	BIT(7)

/* A channel's mode before the guest programs it (KVM's reset value). */
#define MVM_PIT_MODE_UNSET	0xff

struct mvm_pit {
	struct mvm *mvm;			/* C */
	struct mvm_io_device dev;		/* ports 0x40-0x43 */
	struct mvm_io_device speaker_dev;	/* port 0x61 */
	bool speaker;				/* C: KVM_PIT_SPEAKER_DUMMY */

	struct mutex lock;
	/* The uapi layout, so KVM_GET/SET_PIT(2) copy it.  lock. */
	struct kvm_pit_channel_state ch[MVM_PIT_NR_CHANNELS];
	u32 flags;				/* lock: KVM_PIT_FLAGS_* */

	/* Counter 0's timer: changed under lock once it is cancelled. */
	struct hrtimer timer;
	bool periodic;
	s64 period_ns;

	atomic_t reinject;			/* KVM_REINJECT_CONTROL */
	atomic_t pending;			/* ticks not yet delivered */
	atomic_t irq_ack;			/* the last tick was acked */
	struct mvm_irq_ack_notifier ack_notifier;
	struct kthread_worker *worker;
	struct kthread_work expired;		/* pulses GSI 0 */
};

static struct mvm_pit *mvm_get_pit(struct mvm *mvm)
{
	/* Pairs with the release in mvm_pit_create(): fully set up. */
	return smp_load_acquire(&mvm->arch.vpit);
}

/* ------------------------------------------------------------------ */
/* Counting                                                             */

/* The counting element's period in input clocks: 1..0x10000 or 10^4. */
static u32 mvm_pit_initial_count(const struct kvm_pit_channel_state *c)
{
	u32 n;

	if (c->bcd) {
		/* Four BCD digits; 0 stands for 10^4 (datasheet). */
		n = bcd2bin(c->count & 0xff) +
		    bcd2bin((c->count >> 8) & 0xff) * 100;
		return n ? n : 10000;
	}
	/* Written 0 is 2^16 (stored so); userspace may set anything else. */
	return c->count ? c->count : 0x10000;
}

/* Input clocks since the count was loaded (or the gate last rose). */
static u64 mvm_pit_elapsed_clocks(const struct kvm_pit_channel_state *c)
{
	s64 ns = ktime_to_ns(ktime_sub(ktime_get(), c->count_load_time));

	if (ns <= 0)
		return 0;
	return mul_u64_u32_div(ns, MVM_PIT_FREQ_HZ, NSEC_PER_SEC);
}

/*
 * What the output latch would read now.  Modes 0, 1, 4, 5 count on past
 * terminal count, wrapping to the highest count; modes 2 and 3 reload the
 * initial count (datasheet "Operation").  Mode 3 counts down by two, twice
 * per period.
 */
static u32 mvm_pit_get_count(const struct kvm_pit_channel_state *c)
{
	u32 n = mvm_pit_initial_count(c);
	u32 wrap = c->bcd ? 10000 : 0x10000;
	u64 d = mvm_pit_elapsed_clocks(c);
	u32 v;

	switch (c->mode) {
	case 0:
	case 1:
	case 4:
	case 5:
		v = n % wrap + wrap - do_div(d, wrap);
		v %= wrap;
		break;
	case 3:
		d *= 2;
		v = n - do_div(d, n);
		break;
	default:	/* 2, and a mode userspace set */
		v = n - do_div(d, n);
		break;
	}
	if (c->bcd)
		return bin2bcd(v / 100 % 100) << 8 | bin2bcd(v % 100);
	return v & 0xffff;
}

/* The OUT pin, as KVM models it (terminal count, square wave halves). */
static bool mvm_pit_get_out(const struct kvm_pit_channel_state *c)
{
	u32 n = mvm_pit_initial_count(c);
	u64 d = mvm_pit_elapsed_clocks(c);
	u64 q = d;
	u32 rem = do_div(q, n);

	switch (c->mode) {
	case 1:
		return d < n;
	case 2:
		return rem == 0 && d != 0;
	case 3:
		return rem < (n + 1) / 2;
	case 4:
	case 5:
		return d == n;
	default:	/* 0, and a mode never programmed */
		return d >= n;
	}
}

static void mvm_pit_latch_count(struct kvm_pit_channel_state *c)
{
	/* Later latch commands are ignored until the latch is read. */
	if (c->count_latched)
		return;
	c->latched_count = mvm_pit_get_count(c);
	c->count_latched = c->rw_mode;
}

static void mvm_pit_latch_status(struct kvm_pit_channel_state *c)
{
	if (c->status_latched)
		return;
	/* Truncated as KVM's, for a mode never programmed (0xff) too. */
	c->status = (mvm_pit_get_out(c) ? MVM_PIT_STATUS_OUT : 0) |
		    c->rw_mode << 4 | c->mode << 1 | c->bcd;
	c->status_latched = 1;
}

/*
 * GATE (datasheet "Gate Pin Operations Summary"): a rising edge
 * (re)triggers modes 1 and 5 and restarts modes 2 and 3.  As KVM, a low
 * gate does not stop the count in modes 0, 2, 3, 4.
 */
static void mvm_pit_set_gate(struct kvm_pit_channel_state *c, u8 gate)
{
	switch (c->mode) {
	case 1:
	case 2:
	case 3:
	case 5:
		if (gate && !c->gate)
			c->count_load_time = ktime_get();
		break;
	}
	c->gate = gate;
}

/* ------------------------------------------------------------------ */
/* Counter 0's interrupt                                                */

static void mvm_pit_reset_reinject(struct mvm_pit *pit)
{
	atomic_set(&pit->pending, 0);
	atomic_set(&pit->irq_ack, 1);
}

/* Worker: an edge on GSI 0 (the 8254's OUT0 rising at terminal count). */
static void mvm_pit_inject(struct kthread_work *work)
{
	struct mvm_pit *pit = container_of(work, struct mvm_pit, expired);

	/* Reinjecting: the ack of the previous tick will send this one. */
	if (atomic_read(&pit->reinject) && !atomic_xchg(&pit->irq_ack, 0))
		return;

	mvm_set_irq(pit->mvm, MVM_PIT_IRQ_SOURCE_ID, 0, 1, false);
	mvm_set_irq(pit->mvm, MVM_PIT_IRQ_SOURCE_ID, 0, 0, false);
}

/* The guest acknowledged GSI 0 (PIC or IOAPIC EOI). Any context. */
static void mvm_pit_irq_acked(struct mvm_irq_ack_notifier *kian)
{
	struct mvm_pit *pit = container_of(kian, struct mvm_pit,
					   ack_notifier);

	atomic_set(&pit->irq_ack, 1);
	/*
	 * irq_ack before pending: the timer increments pending before it
	 * queues the worker, the worker takes irq_ack; either the worker
	 * sees this ack or we see its tick.
	 */
	smp_mb__after_atomic();
	if (atomic_dec_if_positive(&pit->pending) > 0)
		kthread_queue_work(pit->worker, &pit->expired);
}

static enum hrtimer_restart mvm_pit_timer_fn(struct hrtimer *timer)
{
	struct mvm_pit *pit = container_of(timer, struct mvm_pit, timer);
	u64 ticks = 1;

	/* Ticks missed while the host was busy count too (reinjection). */
	if (pit->periodic)
		ticks = hrtimer_forward_now(timer, ns_to_ktime(pit->period_ns));
	if (atomic_read(&pit->reinject))
		atomic_add(min_t(u64, ticks, INT_MAX / 2), &pit->pending);
	kthread_queue_work(pit->worker, &pit->expired);

	return pit->periodic ? HRTIMER_RESTART : HRTIMER_NORESTART;
}

static void mvm_pit_stop_timer(struct mvm_pit *pit)
{
	hrtimer_cancel(&pit->timer);
	kthread_flush_work(&pit->expired);
}

/* Counter 0 loaded with @n input clocks: its interrupt timer. lock. */
static void mvm_pit_start_timer(struct mvm_pit *pit, u32 n, bool periodic)
{
	s64 interval = mul_u64_u32_div(n, NSEC_PER_SEC, MVM_PIT_FREQ_HZ);

	mvm_pit_stop_timer(pit);
	/* IRQ0 needs the in-kernel PIC/IOAPIC, and not the HPET's. */
	if (!mvm_irqchip_full(pit->mvm) ||
	    (pit->flags & KVM_PIT_FLAGS_HPET_LEGACY))
		return;

	pit->period_ns = interval;
	pit->periodic = periodic;
	mvm_pit_reset_reinject(pit);
	if (periodic && pit->period_ns < MVM_PIT_MIN_PERIOD_NS) {
		pr_info_ratelimited("PIT period %lld ns raised to %lld ns\n",
				    pit->period_ns, MVM_PIT_MIN_PERIOD_NS);
		pit->period_ns = MVM_PIT_MIN_PERIOD_NS;
	}
	hrtimer_start(&pit->timer, ktime_add_ns(ktime_get(), interval),
		      HRTIMER_MODE_ABS);
}

/*
 * A count written to counter @channel (0 meaning the largest), or the
 * state userspace restored.  Counter 0 fires at terminal count once in
 * modes 0, 1, 4, and every period in modes 2 and 3; in mode 5 (and
 * unprogrammed) it waits for a gate edge that never comes.
 */
static void mvm_pit_load_count(struct mvm_pit *pit, int channel, u32 val)
{
	struct kvm_pit_channel_state *c = &pit->ch[channel];

	lockdep_assert_held(&pit->lock);
	c->count = val ? val : 0x10000;
	c->count_load_time = ktime_get();
	if (channel != 0)
		return;

	switch (c->mode) {
	case 0:
	case 1:
	case 4:
		mvm_pit_start_timer(pit, mvm_pit_initial_count(c), false);
		break;
	case 2:
	case 3:
		mvm_pit_start_timer(pit, mvm_pit_initial_count(c), true);
		break;
	default:
		mvm_pit_stop_timer(pit);
		break;
	}
}

/* KVM_REINJECT_CONTROL, and creation/destruction.  lock. */
static void mvm_pit_set_reinject(struct mvm_pit *pit, bool reinject)
{
	if (atomic_read(&pit->reinject) == reinject)
		return;
	if (reinject) {
		mvm_pit_reset_reinject(pit);
		mvm_register_irq_ack_notifier(pit->mvm, &pit->ack_notifier);
	} else {
		mvm_unregister_irq_ack_notifier(pit->mvm, &pit->ack_notifier);
	}
	atomic_set(&pit->reinject, reinject);
}

/* ------------------------------------------------------------------ */
/* Ports                                                                */

static void mvm_pit_write_control(struct mvm_pit *pit, u8 val)
{
	struct kvm_pit_channel_state *c;
	int channel = MVM_PIT_CW_SC(val);
	u8 mode;

	if (channel == 3) {
		/* Read-back: latch count and/or status of the selected. */
		for (channel = 0; channel < MVM_PIT_NR_CHANNELS; channel++) {
			c = &pit->ch[channel];
			if (!(val & MVM_PIT_RB_COUNTER(channel)))
				continue;
			if (!(val & MVM_PIT_RB_NO_COUNT))
				mvm_pit_latch_count(c);
			if (!(val & MVM_PIT_RB_NO_STATUS))
				mvm_pit_latch_status(c);
		}
		return;
	}

	c = &pit->ch[channel];
	if (!MVM_PIT_CW_RW(val)) {
		mvm_pit_latch_count(c);
		return;
	}
	c->rw_mode = MVM_PIT_CW_RW(val);
	c->read_state = c->rw_mode;
	c->write_state = c->rw_mode;
	mode = MVM_PIT_CW_MODE(val);
	/* Modes 6 and 7 are 2 and 3 (datasheet: "X10", "X11"). */
	c->mode = mode > 5 ? mode - 4 : mode;
	c->bcd = !!(val & MVM_PIT_CW_BCD);
}

static void mvm_pit_write_counter(struct mvm_pit *pit, int channel, u8 val)
{
	struct kvm_pit_channel_state *c = &pit->ch[channel];

	switch (c->write_state) {
	case MVM_PIT_RW_MSB:
		mvm_pit_load_count(pit, channel, val << 8);
		break;
	case MVM_PIT_RW_WORD0:
		c->write_latch = val;
		c->write_state = MVM_PIT_RW_WORD1;
		break;
	case MVM_PIT_RW_WORD1:
		mvm_pit_load_count(pit, channel, c->write_latch | val << 8);
		c->write_state = MVM_PIT_RW_WORD0;
		break;
	default:	/* LSB, and a channel never programmed */
		mvm_pit_load_count(pit, channel, val);
		break;
	}
}

/* A status latched comes first, then a count latched, then the counter. */
static u8 mvm_pit_read_counter(struct kvm_pit_channel_state *c)
{
	u32 count;

	if (c->status_latched) {
		c->status_latched = 0;
		return c->status;
	}

	switch (c->count_latched) {
	case 0:
		break;
	case MVM_PIT_RW_MSB:
		c->count_latched = 0;
		return c->latched_count >> 8;
	case MVM_PIT_RW_WORD0:
		c->count_latched = MVM_PIT_RW_MSB;
		return c->latched_count & 0xff;
	default:	/* LSB */
		c->count_latched = 0;
		return c->latched_count & 0xff;
	}

	count = mvm_pit_get_count(c);
	switch (c->read_state) {
	case MVM_PIT_RW_MSB:
		return count >> 8;
	case MVM_PIT_RW_WORD0:
		c->read_state = MVM_PIT_RW_WORD1;
		return count & 0xff;
	case MVM_PIT_RW_WORD1:
		c->read_state = MVM_PIT_RW_WORD0;
		return count >> 8;
	default:
		return count & 0xff;
	}
}

static bool mvm_pit_port_in_range(gpa_t addr)
{
	return addr >= MVM_PIT_BASE_PORT &&
	       addr < MVM_PIT_BASE_PORT + MVM_PIT_NR_PORTS;
}

/* Only the low byte of a wider access counts (the 8254's bus is 8 bits). */
static int mvm_pit_port_write(struct mvm_vcpu *vcpu, struct mvm_io_device *dev,
			      gpa_t addr, int len, const void *val)
{
	struct mvm_pit *pit = container_of(dev, struct mvm_pit, dev);
	int port = addr - MVM_PIT_BASE_PORT;
	u8 byte = *(const u8 *)val;

	if (!mvm_pit_port_in_range(addr))
		return -EOPNOTSUPP;

	mutex_lock(&pit->lock);
	if (port == MVM_PIT_CONTROL)
		mvm_pit_write_control(pit, byte);
	else
		mvm_pit_write_counter(pit, port, byte);
	mutex_unlock(&pit->lock);
	return 0;
}

static int mvm_pit_port_read(struct mvm_vcpu *vcpu, struct mvm_io_device *dev,
			     gpa_t addr, int len, void *val)
{
	struct mvm_pit *pit = container_of(dev, struct mvm_pit, dev);
	int port = addr - MVM_PIT_BASE_PORT;
	u8 byte = 0;	/* the control word register is write-only */

	if (!mvm_pit_port_in_range(addr))
		return -EOPNOTSUPP;

	if (port != MVM_PIT_CONTROL) {
		mutex_lock(&pit->lock);
		byte = mvm_pit_read_counter(&pit->ch[port]);
		mutex_unlock(&pit->lock);
	}
	memset(val, 0, len);
	*(u8 *)val = byte;
	return 0;
}

/* Port 0x61: bit 0 drives counter 2's gate, bit 1 the speaker data. */
static int mvm_speaker_port_write(struct mvm_vcpu *vcpu,
				  struct mvm_io_device *dev, gpa_t addr,
				  int len, const void *val)
{
	struct mvm_pit *pit = container_of(dev, struct mvm_pit, speaker_dev);
	u8 byte = *(const u8 *)val;

	if (addr != MVM_PIT_SPEAKER_PORT)
		return -EOPNOTSUPP;

	mutex_lock(&pit->lock);
	if (byte & MVM_SPEAKER_DATA)
		pit->flags |= KVM_PIT_FLAGS_SPEAKER_DATA_ON;
	else
		pit->flags &= ~KVM_PIT_FLAGS_SPEAKER_DATA_ON;
	mvm_pit_set_gate(&pit->ch[2], byte & MVM_SPEAKER_GATE2);
	mutex_unlock(&pit->lock);
	return 0;
}

static int mvm_speaker_port_read(struct mvm_vcpu *vcpu,
				 struct mvm_io_device *dev, gpa_t addr,
				 int len, void *val)
{
	struct mvm_pit *pit = container_of(dev, struct mvm_pit, speaker_dev);
	struct kvm_pit_channel_state *c = &pit->ch[2];
	u8 byte;

	if (addr != MVM_PIT_SPEAKER_PORT)
		return -EOPNOTSUPP;

	/* The DRAM refresh request toggles every ~15 us: 2^14 ns, as KVM. */
	byte = (ktime_get_ns() >> 14) & 1 ? MVM_SPEAKER_REFRESH : 0;
	mutex_lock(&pit->lock);
	if (pit->flags & KVM_PIT_FLAGS_SPEAKER_DATA_ON)
		byte |= MVM_SPEAKER_DATA;
	if (c->gate)
		byte |= MVM_SPEAKER_GATE2;
	if (mvm_pit_get_out(c))
		byte |= MVM_SPEAKER_OUT2;
	mutex_unlock(&pit->lock);
	memset(val, 0, len);
	*(u8 *)val = byte;
	return 0;
}

static const struct mvm_io_device_ops mvm_pit_dev_ops = {
	.read = mvm_pit_port_read,
	.write = mvm_pit_port_write,
};

static const struct mvm_io_device_ops mvm_speaker_dev_ops = {
	.read = mvm_speaker_port_read,
	.write = mvm_speaker_port_write,
};

/* ------------------------------------------------------------------ */
/* Creation and destruction                                             */

/* The state after creation, as KVM's: no mode, largest count, gate 2 low. */
static void mvm_pit_reset(struct mvm_pit *pit)
{
	int i;

	pit->flags = 0;
	for (i = 0; i < MVM_PIT_NR_CHANNELS; i++) {
		pit->ch[i].mode = MVM_PIT_MODE_UNSET;
		pit->ch[i].gate = i != 2;
		mvm_pit_load_count(pit, i, 0);
	}
	mvm_pit_reset_reinject(pit);
}

static void mvm_pit_free(struct mvm_pit *pit)
{
	mutex_lock(&pit->lock);
	mvm_pit_set_reinject(pit, false);
	mutex_unlock(&pit->lock);
	hrtimer_cancel(&pit->timer);
	/* Runs the work still queued, then stops the thread. */
	kthread_destroy_worker(pit->worker);
	kfree(pit);
}

/* KVM_CREATE_PIT2 (KVM_CREATE_PIT: with the speaker port). */
static int mvm_pit_create(struct mvm *mvm, u32 flags)
{
	struct mvm_pit *pit;
	int r;

	mutex_lock(&mvm->lock);
	r = -EEXIST;
	if (mvm->arch.vpit)
		goto out_unlock;
	r = -ENOENT;
	if (mvm_pit_needs_pic() && !mvm_irqchip_full(mvm))
		goto out_unlock;

	r = -ENOMEM;
	pit = kzalloc(sizeof(*pit), GFP_KERNEL_ACCOUNT);
	if (!pit)
		goto out_unlock;
	pit->mvm = mvm;
	mutex_init(&pit->lock);
	pit->worker = kthread_create_worker(0, "mvm-pit/%d",
					    task_tgid_vnr(current));
	if (IS_ERR(pit->worker)) {
		kfree(pit);
		goto out_unlock;
	}
	kthread_init_work(&pit->expired, mvm_pit_inject);
	hrtimer_init(&pit->timer, CLOCK_MONOTONIC, HRTIMER_MODE_ABS);
	pit->timer.function = mvm_pit_timer_fn;
	pit->ack_notifier.gsi = 0;
	pit->ack_notifier.irq_acked = mvm_pit_irq_acked;
	pit->speaker = flags & KVM_PIT_SPEAKER_DUMMY;

	mutex_lock(&pit->lock);
	mvm_pit_reset(pit);
	mvm_pit_set_reinject(pit, true);
	mutex_unlock(&pit->lock);

	mutex_lock(&mvm->slots_lock);
	pit->dev.ops = &mvm_pit_dev_ops;
	r = mvm_io_bus_register_dev(mvm, MVM_PIO_BUS, MVM_PIT_BASE_PORT,
				    MVM_PIT_NR_PORTS, &pit->dev);
	if (!r && pit->speaker) {
		pit->speaker_dev.ops = &mvm_speaker_dev_ops;
		r = mvm_io_bus_register_dev(mvm, MVM_PIO_BUS,
					    MVM_PIT_SPEAKER_PORT,
					    MVM_PIT_SPEAKER_LEN,
					    &pit->speaker_dev);
		if (r)
			mvm_io_bus_unregister_dev(mvm, MVM_PIO_BUS, &pit->dev);
	}
	mutex_unlock(&mvm->slots_lock);
	if (r) {
		mvm_pit_free(pit);
		r = -ENOMEM;	/* KVM reports every failure so */
		goto out_unlock;
	}

	/* Set up before seen: pairs with mvm_get_pit()'s acquire. */
	smp_store_release(&mvm->arch.vpit, pit);
out_unlock:
	mutex_unlock(&mvm->lock);
	return r;
}

/*
 * VM destruction, before the vCPUs are freed (mvm_arch_sync_events()):
 * the worker's mvm_set_irq() reaches them.  Again later: a no-op.
 */
void mvm_pit_destroy(struct mvm *mvm)
{
	struct mvm_pit *pit = mvm->arch.vpit;

	if (!pit)
		return;
	mutex_lock(&mvm->slots_lock);
	mvm_io_bus_unregister_dev(mvm, MVM_PIO_BUS, &pit->dev);
	if (pit->speaker)
		mvm_io_bus_unregister_dev(mvm, MVM_PIO_BUS, &pit->speaker_dev);
	mutex_unlock(&mvm->slots_lock);
	mvm->arch.vpit = NULL;
	mvm_pit_free(pit);
}

/* ------------------------------------------------------------------ */
/* VM ioctls                                                            */

static void mvm_pit_get_state(struct mvm_pit *pit,
			      struct kvm_pit_channel_state *ch, u32 *flags)
{
	mutex_lock(&pit->lock);
	memcpy(ch, pit->ch, sizeof(pit->ch));
	if (flags)
		*flags = pit->flags;
	mutex_unlock(&pit->lock);
}

/*
 * Restore the counters (and with KVM_SET_PIT2 the flags), reloading each
 * count as if just written: the counters restart, counter 0's timer
 * follows its mode.  Entering HPET legacy mode stops counter 0's timer.
 * Nothing is validated, as KVM.
 */
static void mvm_pit_set_state(struct mvm_pit *pit,
			      const struct kvm_pit_channel_state *ch,
			      const u32 *flags)
{
	bool hpet_start = false;
	u8 mode0;
	int i;

	mutex_lock(&pit->lock);
	if (flags) {
		hpet_start = !(pit->flags & KVM_PIT_FLAGS_HPET_LEGACY) &&
			     (*flags & KVM_PIT_FLAGS_HPET_LEGACY);
		pit->flags = *flags;
	}
	memcpy(pit->ch, ch, sizeof(pit->ch));
	for (i = 0; i < MVM_PIT_NR_CHANNELS; i++) {
		if (i == 0 && hpet_start) {
			/* Load with the timer off; keep the mode for later. */
			mode0 = pit->ch[0].mode;
			pit->ch[0].mode = MVM_PIT_MODE_UNSET;
			mvm_pit_load_count(pit, 0, pit->ch[0].count);
			pit->ch[0].mode = mode0;
		} else {
			mvm_pit_load_count(pit, i, pit->ch[i].count);
		}
	}
	mutex_unlock(&pit->lock);
}

/* KVM_SET_PIT(2) under mvm->lock, as KVM (-ENXIO without a PIT). */
static int mvm_pit_set_locked(struct mvm *mvm,
			      const struct kvm_pit_channel_state *ch,
			      const u32 *flags)
{
	struct mvm_pit *pit;
	int r = -ENXIO;

	mutex_lock(&mvm->lock);
	pit = mvm_get_pit(mvm);
	if (pit) {
		mvm_pit_set_state(pit, ch, flags);
		r = 0;
	}
	mutex_unlock(&mvm->lock);
	return r;
}

long mvm_pit_vm_ioctl(struct mvm *mvm, unsigned int ioctl, unsigned long arg)
{
	void __user *argp = (void __user *)arg;
	struct mvm_pit *pit;
	union {
		struct kvm_pit_config config;
		struct kvm_pit_state ps;
		struct kvm_pit_state2 ps2;
		struct kvm_reinject_control reinject;
	} u;

	BUILD_BUG_ON(sizeof(u.ps.channels) != sizeof(pit->ch));
	BUILD_BUG_ON(sizeof(u.ps2.channels) != sizeof(pit->ch));

	switch (ioctl) {
	case KVM_CREATE_PIT:
		/* The first interface: port 0x61 always in the kernel. */
		return mvm_pit_create(mvm, KVM_PIT_SPEAKER_DUMMY);
	case KVM_CREATE_PIT2:
		if (copy_from_user(&u.config, argp, sizeof(u.config)))
			return -EFAULT;
		/* KVM checks neither the flags nor the padding. */
		return mvm_pit_create(mvm, u.config.flags);
	case KVM_GET_PIT:
		if (copy_from_user(&u.ps, argp, sizeof(u.ps)))
			return -EFAULT;
		pit = mvm_get_pit(mvm);
		if (!pit)
			return -ENXIO;
		mvm_pit_get_state(pit, u.ps.channels, NULL);
		if (copy_to_user(argp, &u.ps, sizeof(u.ps)))
			return -EFAULT;
		return 0;
	case KVM_SET_PIT:
		if (copy_from_user(&u.ps, argp, sizeof(u.ps)))
			return -EFAULT;
		return mvm_pit_set_locked(mvm, u.ps.channels, NULL);
	case KVM_GET_PIT2:
		pit = mvm_get_pit(mvm);
		if (!pit)
			return -ENXIO;
		memset(&u.ps2, 0, sizeof(u.ps2));
		mvm_pit_get_state(pit, u.ps2.channels, &u.ps2.flags);
		if (copy_to_user(argp, &u.ps2, sizeof(u.ps2)))
			return -EFAULT;
		return 0;
	case KVM_SET_PIT2:
		if (copy_from_user(&u.ps2, argp, sizeof(u.ps2)))
			return -EFAULT;
		return mvm_pit_set_locked(mvm, u.ps2.channels, &u.ps2.flags);
	case KVM_REINJECT_CONTROL:
		if (copy_from_user(&u.reinject, argp, sizeof(u.reinject)))
			return -EFAULT;
		pit = mvm_get_pit(mvm);
		if (!pit)
			return -ENXIO;
		mutex_lock(&pit->lock);
		mvm_pit_set_reinject(pit, u.reinject.pit_reinject);
		mutex_unlock(&pit->lock);
		return 0;
	default:
		return -ENOTTY;
	}
}
