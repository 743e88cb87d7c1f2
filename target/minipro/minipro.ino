/*
 * Mini Pro (ATmega328P, 16 MHz) I2C target mining Duino-Coin for the ESP8266 master.
 * This file is only the Arduino shell around duco_core.c: Wire callbacks, EEPROM, millis()
 * and the serial console. The protocol is described in docs/protocol.md.
 *
 * Console at 38400 baud, one command per line:
 *   a NN   set the I2C address (stored in EEPROM byte 0, the bus restarts at it)
 *   t      hash the self-test job and print nonce, time and hash rate
 *   s      show address, status, difficulty, last result and DUCOID
 *   h      list the commands
 */
#include <Wire.h>
#include <EEPROM.h>
#include <avr/boot.h>
#include <avr/pgmspace.h>

#include "duco_core.h"

static struct duco core;
static char line[12];
static uint8_t line_len;

/* The official miners' self-test job: nonce 50 at difficulty 10. In flash, not RAM. */
static const char test_last[] PROGMEM = "ba29a15896fd2d792d5c4b60668bf2b9feebc51d";
static const char test_expected[] PROGMEM = "d0beba883d7e8cd119ea2b0e09b78f60f29e0968";

static void on_receive(int count)
{
    uint8_t buf[DUCO_ARGS + 1];
    uint8_t len = 0;
    (void)count;
    while (Wire.available()) {
        int b = Wire.read();
        if (len < sizeof buf)
            buf[len++] = (uint8_t)b;
    }
    duco_receive(&core, buf, len);
}

static void on_request()
{
    uint8_t buf[DUCO_REPLY];
    uint8_t n = duco_reply(&core, buf, sizeof buf);
    if (n == 0) {
        /* with nothing written, the Wire library would send 0x00; an idle bus reads 0xFF */
        buf[0] = 0xFF;
        n = 1;
    }
    Wire.write(buf, n);
}

static void start_bus()
{
    Wire.begin(duco_addr(&core));
    Wire.onReceive(on_receive);
    Wire.onRequest(on_request);
}

static void set_address(uint8_t addr)
{
    EEPROM.update(0, addr);
    Wire.end();
    start_bus();
}

static void print_hex_id()
{
    for (uint8_t i = 0; i < DUCO_ID_BYTES; i++) {
        if (core.id[i] < 16)
            Serial.print('0');
        Serial.print(core.id[i], HEX);
    }
}

static void selftest()
{
    char last[41], expected[41];
    struct duco_search s;
    strcpy_P(last, test_last);
    strcpy_P(expected, test_expected);
    /* micros(), not millis(): the 51 hashes take only a few tens of ms */
    uint32_t t0 = micros();
    duco_search_start(&s, last, 40, expected, 40, 10);
    while (!duco_search_step(&s, 0)) {
    }
    uint32_t us = micros() - t0;
    /* hash rate in tenths of H/s, integers only: no float printing in the sketch; us is
     * taken in tens so that the product fits 32 bits for any number of hashes up to 1001 */
    uint32_t rate10 = us >= 10 ? (uint32_t)s.tried * 1000000UL / (us / 10) : 0;
    Serial.print(F("selftest nonce "));
    Serial.print(s.found);
    Serial.print(F(" hashes "));
    Serial.print(s.tried);
    Serial.print(F(" ms "));
    Serial.print((us + 500) / 1000);
    Serial.print(F(" rate "));
    Serial.print(rate10 / 10);
    Serial.print('.');
    Serial.print(rate10 % 10);
    Serial.println(F(" H/s"));
}

static void show_state()
{
    char st[3];
    duco_status(&core, st);
    Serial.print(F("addr "));
    Serial.print(duco_addr(&core));
    Serial.print(F(" status "));
    Serial.write((const uint8_t *)st, 3);
    Serial.print(F(" diff "));
    Serial.print(core.diff);
    Serial.print(F(" result "));
    Serial.print(core.result);
    Serial.print(F(" ms "));
    Serial.print(core.elapsed);
    Serial.print(F(" DUCOID"));
    print_hex_id();
    Serial.println();
}

static void run_line()
{
    line[line_len] = 0;
    if (line[0] == 'a' && line_len >= 3) {
        int addr = atoi(line + 1);
        if (addr >= 1 && addr <= 127) {
            duco_set_addr(&core, (uint8_t)addr);
            set_address((uint8_t)addr);
            show_state();
        } else {
            Serial.println(F("address 1..127"));
        }
    } else if (line[0] == 't') {
        selftest();
    } else if (line[0] == 's') {
        show_state();
    } else if (line_len) {
        Serial.println(F("a NN: set address, t: self-test, s: state"));
    }
    line_len = 0;
}

static void console()
{
    while (Serial.available()) {
        char c = (char)Serial.read();
        if (c == '\n' || c == '\r')
            run_line();
        else if (line_len < sizeof line - 1)
            line[line_len++] = c;
    }
}

void setup()
{
    uint8_t id[DUCO_ID_BYTES];
    Serial.begin(38400);
    /* bytes 0x0E.. of the signature row hold the chip's lot, wafer and position: unique */
    for (uint8_t i = 0; i < DUCO_ID_BYTES; i++)
        id[i] = boot_signature_byte_get(0x0E + i);
    duco_init(&core, duco_addr_of_eeprom(EEPROM.read(0)), id);
    start_bus(); /* the interrupt answers `S` while the self-test runs */
    selftest();
    show_state();
}

void loop()
{
    if (duco_loop(&core, millis()) == 'V')
        set_address(duco_addr(&core));
    if (duco_hashing(&core)) {
        /* the whole search at once: S, R and E are still answered from the interrupt */
        duco_work(&core, 0);
        duco_finish(&core, millis());
    }
    console();
}
