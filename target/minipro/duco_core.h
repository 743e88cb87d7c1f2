/*
 * The I2C target's protocol and DUCO-S1A hashing, without any Arduino header, so the same
 * code runs in the Mini Pro sketch (minipro.ino) and in a host shared library that the
 * Python tests drive (tools/firmware_minipro.py). The protocol is described in docs/protocol.md
 * and docs/firmware.md.
 *
 * Time never comes from here: every function that needs "now" takes it in ms from its
 * caller (millis() on the AVR, the injected test clock on the host).
 *
 * Split between the receive interrupt and loop():
 *   duco_receive()  master write; answers S R E at once, queues every other letter
 *   duco_reply()    master read; copies the prepared reply
 *   duco_loop()     carries out the queued letter (may start a hash)
 *   duco_work()     hashes some nonces of the running search
 *   duco_finish()   ends the search: result and elapsed time become readable
 */
#ifndef DUCO_CORE_H
#define DUCO_CORE_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define DUCO_VERSION 'c'      /* byte 2 of the status right after `A` */
#define DUCO_DEFAULT_ADDR 4   /* EEPROM byte 0 above 127 (erased) */
#define DUCO_DEFAULT_DIFF 10  /* the original sketch's nonce range 0..1000 */
#ifndef DUCO_ARGS
#define DUCO_ARGS 31          /* a 32-byte Wire buffer minus the letter (15 on an ATtiny85) */
#endif
#define DUCO_ID_BYTES 8       /* 16 hex digits of DUCOID */
#define DUCO_REPLY 22         /* the longest reply: DUCOID + 16 hex digits */

/* One DUCO-S1A search: the ten SHA-1 rounds that depend only on the last block hash are
 * done once per job, so each nonce costs the remaining 70 rounds of a single 64-byte block.
 * The nonce's digits are counted up in place (tail) instead of converted for each nonce.
 * The job's characters arrive straight into head and expect, so no other copy is kept. */
struct duco_search {
    uint32_t mid[5];     /* SHA-1 state after the ten rounds that only see prefix words */
    uint32_t head[10];   /* the last block hash (prefix), big-endian words */
    uint32_t expect[5];  /* the expected digest as words */
    union {
        uint32_t w[2];
        uint8_t b[8];
    } tail;              /* message words 10 and 11: the nonce's digits, then 0x80 */
    uint32_t bits;       /* message word 15: the length in bits, prefix + digits */
    uint8_t ndigits;     /* digits of the nonce being tried */
    uint8_t valid;       /* 0 when the prefix or the expected hash was not 40 characters */
    uint16_t next;       /* next nonce to try */
    uint16_t last_nonce; /* 100 * diff */
    uint16_t found;      /* the match, 0 when none */
    uint16_t tried;      /* nonces hashed so far */
    uint8_t over;        /* the search ended (match or range exhausted) */
};

struct duco {
    /* shared with the receive interrupt, hence volatile */
    volatile uint8_t state;   /* I B C */
    volatile uint8_t flag;    /* DUCO_VERSION after `A`, '?' once a letter has run */
    volatile uint8_t pending; /* letter shown in status byte 3, ' ' when none */
    volatile uint8_t queued;  /* the one-slot queue for loop(), 0 when empty */
    volatile uint8_t nargs;
    volatile uint8_t args[DUCO_ARGS];
    volatile uint8_t reply[DUCO_REPLY];
    volatile uint8_t reply_len;
    volatile uint16_t result;
    volatile uint32_t elapsed;

    /* loop() only */
    uint8_t addr;
    uint8_t diff;
    uint8_t hashing;
    uint8_t bad_chunks; /* bit per chunk L..Q: not yet a full slot of hex digits */
    uint32_t start_ms;
    uint8_t id[DUCO_ID_BYTES];
    struct duco_search job;
};

void duco_init(struct duco *t, uint8_t addr, const uint8_t id[DUCO_ID_BYTES]);
void duco_receive(struct duco *t, const uint8_t *data, uint8_t len);
uint8_t duco_reply(struct duco *t, uint8_t *out, uint8_t max);
char duco_loop(struct duco *t, uint32_t now_ms);
uint8_t duco_work(struct duco *t, uint16_t budget);
void duco_finish(struct duco *t, uint32_t now_ms);

/* Small queries for the shells and the tests. */
uint8_t duco_addr_of_eeprom(uint8_t eeprom_byte);
uint8_t duco_is_small(uint8_t addr);
uint8_t duco_addr(const struct duco *t);
void duco_set_addr(struct duco *t, uint8_t addr);
uint8_t duco_hashing(const struct duco *t);
uint8_t duco_queued(const struct duco *t);
uint16_t duco_hashes(const struct duco *t);
uint16_t duco_size(void);
uint16_t duco_search_size(void);
void duco_status(const struct duco *t, char out[3]);

/* The search on its own, used by loop() and by the console's self-test. */
void duco_search_start(struct duco_search *s, const char *last, uint8_t last_len,
                       const char *expected, uint8_t expected_len, uint8_t diff);
void duco_search_prepare(struct duco_search *s, uint8_t diff);
uint8_t duco_search_step(struct duco_search *s, uint16_t budget);
uint16_t duco_search_found(const struct duco_search *s);
uint16_t duco_search_tried(const struct duco_search *s);
void duco_sha1(const uint8_t *msg, uint16_t len, uint8_t digest[20]);

#ifdef __cplusplus
}
#endif

#endif
