// SPDX-License-Identifier: GPL-2.0
/*
 * An 8250/16550A UART on COM1: the guest's console (console=ttyS0).
 *
 * The guest talks to it through 8 I/O ports from 0x3f8.  What it
 * transmits goes to our stdout at once, so the transmitter is always
 * empty; what comes from our stdin (typed on a terminal, or piped)
 * arrives in the receive FIFO.  The
 * UART interrupts the guest on ISA IRQ 4 through the in-kernel PIC and
 * I/O APIC (KVM_IRQ_LINE): the line is high while the interrupt
 * identification register (IIR) names a pending interrupt, low otherwise,
 * so each new reason to interrupt is a fresh rising edge for the
 * edge-triggered ISA input.
 *
 * Register map (offset from the base; DLAB is LCR bit 7):
 *	0  read: RBR, receive buffer; write: THR, transmit holding
 *	   (DLAB=1: DLL, divisor latch low)
 *	1  IER, interrupt enable (DLAB=1: DLM, divisor latch high)
 *	2  read: IIR, interrupt identification; write: FCR, FIFO control
 *	3  LCR, line control	4  MCR, modem control
 *	5  LSR, line status	6  MSR, modem status	7  SCR, scratch
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include "vmm.h"

#define IER_RDI		0x01	/* receive data available */
#define IER_THRI	0x02	/* transmit holding register empty */
#define IER_RLSI	0x04	/* receiver line status */
#define IER_MSI		0x08	/* modem status */

#define IIR_NO_INT	0x01
#define IIR_MSI		0x00
#define IIR_THRI	0x02
#define IIR_RDI		0x04
#define IIR_RLSI	0x06
#define IIR_FIFO_ON	0xc0	/* both bits set: a 16550A with FIFOs on */

#define FCR_ENABLE	0x01
#define FCR_CLEAR_RX	0x02

#define LCR_DLAB	0x80

#define MCR_DTR		0x01
#define MCR_RTS		0x02
#define MCR_OUT1	0x04
#define MCR_OUT2	0x08
#define MCR_LOOP	0x10

#define LSR_DR		0x01	/* data ready */
#define LSR_OE		0x02	/* overrun */
#define LSR_THRE	0x20	/* transmit holding register empty */
#define LSR_TEMT	0x40	/* transmitter empty */

#define MSR_DCTS	0x01	/* the delta bits: changed since read */
#define MSR_DDSR	0x02
#define MSR_TERI	0x04
#define MSR_DDCD	0x08
#define MSR_CTS		0x10
#define MSR_DSR		0x20
#define MSR_RI		0x40
#define MSR_DCD		0x80

#define RX_FIFO_SIZE	16

static struct uart {
	pthread_mutex_t lock;
	pthread_cond_t rx_space;	/* the guest read from the FIFO */
	struct vm *vm;
	uint8_t ier, lcr, mcr, lsr, msr, scr, fcr, dll, dlm;
	bool thr_interrupt;	/* "THR empty" pending until IIR read/THR written */
	bool irq_level;		/* what we last told KVM about IRQ 4 */
	uint8_t rx[RX_FIFO_SIZE];
	unsigned int rx_head, rx_count;
} uart = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.rx_space = PTHREAD_COND_INITIALIZER,
};

/* The highest-priority pending interrupt, as IIR reports it. */
static uint8_t pending_interrupt(void)
{
	if ((uart.ier & IER_RLSI) && (uart.lsr & LSR_OE))
		return IIR_RLSI;
	if ((uart.ier & IER_RDI) && (uart.lsr & LSR_DR))
		return IIR_RDI;
	if ((uart.ier & IER_THRI) && uart.thr_interrupt)
		return IIR_THRI;
	if ((uart.ier & IER_MSI) && (uart.msr & 0x0f))
		return IIR_MSI;
	return IIR_NO_INT;
}

/* Drive IRQ 4 from the state; called with the lock held after changes. */
static void update_irq(void)
{
	struct kvm_irq_level irq = { .irq = COM1_IRQ };
	bool level = pending_interrupt() != IIR_NO_INT;

	/*
	 * On a PC, OUT2 gates the UART's interrupt onto the ISA bus; the
	 * kernel's 8250 driver sets it.
	 */
	if (!(uart.mcr & MCR_OUT2))
		level = false;
	if (level == uart.irq_level)
		return;
	uart.irq_level = level;
	irq.level = level;
	if (ioctl(uart.vm->vm_fd, KVM_IRQ_LINE, &irq) < 0)
		vmm_exit(125, "KVM_IRQ_LINE: %m");
}

/* MSR in loopback mode mirrors MCR's outputs (the 8250 driver tests it). */
static uint8_t modem_status(void)
{
	uint8_t msr = uart.msr & 0x0f;

	if (!(uart.mcr & MCR_LOOP))
		return msr | MSR_DCD | MSR_DSR | MSR_CTS;	/* a cable */
	if (uart.mcr & MCR_RTS)
		msr |= MSR_CTS;
	if (uart.mcr & MCR_DTR)
		msr |= MSR_DSR;
	if (uart.mcr & MCR_OUT1)
		msr |= MSR_RI;
	if (uart.mcr & MCR_OUT2)
		msr |= MSR_DCD;
	return msr;
}

static void rx_push(uint8_t c)
{
	uart.rx[(uart.rx_head + uart.rx_count) % RX_FIFO_SIZE] = c;
	uart.rx_count++;
	uart.lsr |= LSR_DR;
}

static uint8_t rx_pop(void)
{
	uint8_t c;

	if (!uart.rx_count)
		return 0;
	c = uart.rx[uart.rx_head];
	uart.rx_head = (uart.rx_head + 1) % RX_FIFO_SIZE;
	if (!--uart.rx_count)
		uart.lsr &= ~LSR_DR;
	pthread_cond_signal(&uart.rx_space);
	return c;
}

static void transmit(uint8_t c)
{
	if (uart.mcr & MCR_LOOP) {	/* loopback: back to our receiver */
		if (uart.rx_count < RX_FIFO_SIZE)
			rx_push(c);
		else
			uart.lsr |= LSR_OE;
	} else {
		while (write(STDOUT_FILENO, &c, 1) < 0 && errno == EINTR)
			;
	}
	/* Sent at once: the THR is empty again, which may interrupt. */
	uart.thr_interrupt = true;
}

void uart_out(uint16_t offset, uint8_t value)
{
	pthread_mutex_lock(&uart.lock);
	switch (offset) {
	case 0:
		if (uart.lcr & LCR_DLAB) {
			uart.dll = value;
		} else {
			uart.thr_interrupt = false;	/* writing THR clears it */
			transmit(value);
		}
		break;
	case 1:
		if (uart.lcr & LCR_DLAB) {
			uart.dlm = value;
		} else {
			/*
			 * Enabling the THR-empty interrupt while the THR is
			 * empty raises it at once (the kernel's 8250 driver
			 * relies on it to start transmitting, and tests it).
			 */
			if ((value & IER_THRI) && !(uart.ier & IER_THRI))
				uart.thr_interrupt = true;
			uart.ier = value & 0x0f;
		}
		break;
	case 2:
		uart.fcr = value;
		if (value & FCR_CLEAR_RX) {
			uart.rx_count = 0;
			uart.lsr &= ~LSR_DR;
			pthread_cond_signal(&uart.rx_space);
		}
		break;	/* the transmit FIFO is always empty */
	case 3:
		uart.lcr = value;
		break;
	case 4:
		uart.mcr = value & 0x1f;
		break;
	case 7:
		uart.scr = value;
		break;
	default:	/* LSR and MSR are read-only */
		break;
	}
	update_irq();
	pthread_mutex_unlock(&uart.lock);
}

uint8_t uart_in(uint16_t offset)
{
	uint8_t value = 0;

	pthread_mutex_lock(&uart.lock);
	switch (offset) {
	case 0:
		value = (uart.lcr & LCR_DLAB) ? uart.dll : rx_pop();
		break;
	case 1:
		value = (uart.lcr & LCR_DLAB) ? uart.dlm : uart.ier;
		break;
	case 2:
		value = pending_interrupt();
		/* Reading IIR acknowledges a THR-empty interrupt. */
		if (value == IIR_THRI)
			uart.thr_interrupt = false;
		if (uart.fcr & FCR_ENABLE)
			value |= IIR_FIFO_ON;
		break;
	case 3:
		value = uart.lcr;
		break;
	case 4:
		value = uart.mcr;
		break;
	case 5:
		value = uart.lsr | LSR_THRE | LSR_TEMT;
		uart.lsr &= ~LSR_OE;		/* errors clear on read */
		break;
	case 6:
		value = modem_status();
		uart.msr &= ~0x0f;		/* so do the delta bits */
		break;
	case 7:
		value = uart.scr;
		break;
	}
	update_irq();
	pthread_mutex_unlock(&uart.lock);
	return value;
}

/*
 * Our stdin, byte by byte, into the receive FIFO, until EOF.  When the
 * FIFO is full we wait for the guest to read rather than drop what was
 * typed.  On a terminal, Ctrl-A then x ends the run, as in QEMU (the
 * terminal is in raw mode, so Ctrl-C goes to the guest), and Ctrl-A
 * Ctrl-A sends one Ctrl-A.
 */
static void *stdin_thread(void *arg)
{
	bool terminal = arg != NULL, escape = false;
	uint8_t c;

	for (;;) {
		ssize_t n = read(STDIN_FILENO, &c, 1);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return NULL;	/* EOF: nothing more to receive */
		if (terminal) {
			if (escape && c == 'x')
				vmm_exit(0, "Ctrl-A x: terminated");
			escape = c == 0x01 && !escape;
			if (escape)
				continue;
		}

		pthread_mutex_lock(&uart.lock);
		while (uart.rx_count == RX_FIFO_SIZE)
			pthread_cond_wait(&uart.rx_space, &uart.lock);
		rx_push(c);
		update_irq();
		pthread_mutex_unlock(&uart.lock);
	}
}

void uart_init(struct vm *vm, bool terminal)
{
	pthread_t thread;

	uart.vm = vm;
	uart.lsr = LSR_THRE | LSR_TEMT;
	if (pthread_create(&thread, NULL, stdin_thread,
			   terminal ? (void *)1 : NULL))
		vmm_exit(125, "cannot start the stdin thread");
}
