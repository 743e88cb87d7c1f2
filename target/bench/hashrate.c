/*
 * Hash rate of the Mini Pro core by simulated CPU cycles, for `make firmware-hashrate`.
 *
 * This is a bare main (no Arduino core) linked with the object file of duco_core.c that
 * the shipped sketch is built from, so it measures the very code `make firmware` ships.
 * Timer1 counts every CPU cycle (prescaler 1) and its overflow interrupt carries the count
 * past 16 bits. In simavr the count does not depend on the host, so it is the same on
 * every run, and it is what a real 16 MHz ATmega328P would take.
 *
 * For each job it prints one line on the serial port (simavr shows it on stderr):
 *   hashrate <name> nonce <n> hashes <h> cycles <c> cycles/hash <c/h> rate <H/s> H/s
 * then stops the CPU, which ends simavr.
 */
#include <stdint.h>
#include <string.h>

#include <avr/interrupt.h>
#include <avr/io.h>
#include <avr/pgmspace.h>
#include <avr/sleep.h>

#include "duco_core.h"

#define BAUD 115200UL

static volatile uint16_t overflows;

ISR(TIMER1_OVF_vect) { overflows++; }

static void timer_start(void)
{
    TCCR1A = 0;
    TCCR1B = 0;
    TCNT1 = 0;
    overflows = 0;
    TIFR1 = _BV(TOV1);
    TIMSK1 = _BV(TOIE1);
    TCCR1B = _BV(CS10); /* prescaler 1: one count per CPU cycle */
}

/* Cycles since timer_start(). An overflow that happened after the interrupts were masked
 * is still pending: count it when TCNT1 has already wrapped. */
static uint32_t timer_read(void)
{
    uint8_t sreg = SREG;
    cli();
    uint16_t low = TCNT1;
    uint32_t high = overflows;
    if ((TIFR1 & _BV(TOV1)) && low < 0x8000)
        high++;
    SREG = sreg;
    return (high << 16) | low;
}

static void uart_init(void)
{
    UCSR0A = _BV(U2X0);
    UBRR0 = (uint16_t)((F_CPU / (8 * BAUD)) - 1);
    UCSR0B = _BV(TXEN0);
    UCSR0C = _BV(UCSZ01) | _BV(UCSZ00);
}

static void put_char(char c)
{
    while (!(UCSR0A & _BV(UDRE0))) {
    }
    UDR0 = (uint8_t)c;
}

static void put_text_P(const char *s)
{
    char c;
    while ((c = (char)pgm_read_byte(s++)))
        put_char(c);
}

static void put_number(uint32_t v)
{
    char digits[10];
    uint8_t n = 0;
    do {
        digits[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n)
        put_char(digits[--n]);
}

/* A job: prefix, expected hash, difficulty, and how many nonces are hashed untimed first
 * (to time only the 4-digit nonces of a long range). The expected hashes are those of the
 * last nonce timed, so each search runs through its whole window and ends on a match. */
struct job {
    const char *name;
    const char *last;
    const char *expected;
    uint8_t diff;
    uint16_t untimed;
};

static const char name_a[] PROGMEM = "diff6";
static const char last_a[] PROGMEM = "08cc80c947162d4b58c1ebe18a76699ae4bd4fe6";
static const char expected_a[] PROGMEM = "1f0c52c9a242c460a96d42ce34edb97cf7f0b5b5"; /* 600 */
static const char name_b[] PROGMEM = "diff100";
static const char last_b[] PROGMEM = "ba29a15896fd2d792d5c4b60668bf2b9feebc51d";
static const char expected_b[] PROGMEM = "26ccd80b1a483aef984b5c1699c76f074819bb2f"; /* 1999 */
static const char name_c[] PROGMEM = "selftest";
static const char expected_c[] PROGMEM = "d0beba883d7e8cd119ea2b0e09b78f60f29e0968"; /* 50 */

static const struct job jobs[] = {
    {name_a, last_a, expected_a, 6, 0},      /* the real AVR job, nonces 0..600 */
    {name_b, last_b, expected_b, 100, 1000}, /* timed over the 4-digit nonces 1000..1999 */
    {name_c, last_b, expected_c, 10, 0},     /* the sketch's boot self-test, nonces 0..50 */
};

static void run(const struct job *j)
{
    char last[41], expected[41];
    struct duco_search s;
    strcpy_P(last, j->last);
    strcpy_P(expected, j->expected);
    uint16_t skipped = 0;
    uint32_t cycles;
    if (j->untimed) {
        duco_search_start(&s, last, 40, expected, 40, j->diff);
        duco_search_step(&s, j->untimed);
        skipped = s.tried;
        timer_start();
    } else {
        timer_start(); /* a whole job: the prefix's rounds count too */
        duco_search_start(&s, last, 40, expected, 40, j->diff);
    }
    while (!duco_search_step(&s, 0)) {
    }
    cycles = timer_read();
    TCCR1B = 0;
    uint16_t hashes = s.tried - skipped;
    /* hundredths of H/s in 64 bits: 16e6 * 100 * hashes does not fit 32 */
    uint32_t rate100 = (uint32_t)((uint64_t)F_CPU * 100 * hashes / cycles);
    put_text_P(PSTR("hashrate "));
    put_text_P(j->name);
    put_text_P(PSTR(" nonce "));
    put_number(s.found);
    put_text_P(PSTR(" hashes "));
    put_number(hashes);
    put_text_P(PSTR(" cycles "));
    put_number(cycles);
    put_text_P(PSTR(" cycles/hash "));
    put_number((cycles + hashes / 2) / hashes);
    put_text_P(PSTR(" rate "));
    put_number(rate100 / 100);
    put_char('.');
    put_char((char)('0' + rate100 / 10 % 10));
    put_char((char)('0' + rate100 % 10));
    put_text_P(PSTR(" H/s\n"));
}

int main(void)
{
    uart_init();
    sei();
    for (uint8_t i = 0; i < sizeof jobs / sizeof jobs[0]; i++)
        run(&jobs[i]);
    put_text_P(PSTR("hashrate done\n"));
    while (!(UCSR0A & _BV(TXC0))) {
    }
    cli();
    sleep_cpu(); /* simavr ends here */
    return 0;
}
