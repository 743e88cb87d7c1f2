/*
 * ATtiny85 variant check: links the shared core for the ATtiny85 (8 KB flash, 512 B RAM)
 * and drives it the way a small target (address 50..99) is driven on the bus, so the linker
 * keeps every part a real ATtiny85 shell would use. There is no USI I2C shell in the
 * Debian packages, so this proves the core fits; it is not a flashable sketch.
 */
#include <string.h>

#include <avr/io.h>
#include <avr/interrupt.h>
#include <avr/pgmspace.h>
#include <avr/sleep.h>

#include "duco_core.h"

static struct duco core;

/* the spec's self-test job in the small target's six chunks of 14, 14 and 12, kept in
 * flash as the bus would deliver them, so the RAM figure is the core's own */
static const char job[6][16] PROGMEM = {
    "Lba29a15896fd2d", "M792d5c4b60668b", "Nf2b9feebc51d",
    "Od0beba883d7e8c", "Pd119ea2b0e09b7", "Q8f60f29e0968"};

static void bus_write(const char *msg, uint8_t len)
{
    duco_receive(&core, (const uint8_t *)msg, len);
    duco_loop(&core, 0);
}

int main(void)
{
    static const uint8_t id[DUCO_ID_BYTES] = {0};
    uint8_t reply[DUCO_REPLY];
    duco_init(&core, 50, id);
    for (uint8_t i = 0; i < 6; i++) {
        char msg[16];
        strcpy_P(msg, job[i]);
        bus_write(msg, (uint8_t)strlen(msg));
    }
    duco_work(&core, 0);
    duco_finish(&core, 1);
    bus_write("R", 1);
    /* the reply goes to a port so the compiler cannot drop the work */
    PORTB = reply[duco_reply(&core, reply, sizeof reply) - 1];
    cli();
    sleep_cpu();
    return 0;
}
