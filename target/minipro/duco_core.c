/*
 * Protocol and DUCO-S1A hashing of the I2C target; see duco_core.h for the split between
 * the receive interrupt and loop(). SHA-1 here follows FIPS 180-4, section 6.1.
 */
#include <string.h>

#include "duco_core.h"

#if defined(__AVR__)
#include <avr/io.h>
#include <avr/interrupt.h>
/* loop() updates several fields the receive interrupt reads together (state + pending,
 * reply + length): mask the interrupt for those few instructions only. */
#define DUCO_ATOMIC_BEGIN { uint8_t duco_sreg = SREG; cli();
#define DUCO_ATOMIC_END SREG = duco_sreg; }
#else
/* On the host, the Python wrapper calls one function at a time. */
#define DUCO_ATOMIC_BEGIN {
#define DUCO_ATOMIC_END }
#endif

/* The message block is filled byte by byte through a union with its words; SHA-1 words
 * are big-endian, so byte i of the block lives at index i ^ 3 on a little-endian CPU. */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "duco_core.c fills SHA-1 blocks assuming a little-endian CPU"
#endif

union block {
    uint32_t w[16];
    uint8_t b[64];
};

static const uint32_t sha1_init[5] = {
    0x67452301UL, 0xEFCDAB89UL, 0x98BADCFEUL, 0x10325476UL, 0xC3D2E1F0UL};

static uint32_t rol(uint32_t x, uint8_t n) { return (x << n) | (x >> (32 - n)); }

/* Rounds from..to-1 of the SHA-1 compression on state s. The message schedule lives in a
 * 16-word ring (w[t & 15]) instead of 80 words, which keeps the stack at 64 bytes on the
 * 2 KB Mini Pro. Rounds before 16 read the block as given. */
static void sha1_rounds(uint32_t s[5], uint32_t w[16], uint8_t from, uint8_t to)
{
    uint32_t a = s[0], b = s[1], c = s[2], d = s[3], e = s[4];
    for (uint8_t t = from; t < to; t++) {
        uint32_t f, k;
        if (t >= 16) {
            uint32_t x = w[(t + 13) & 15] ^ w[(t + 8) & 15] ^ w[(t + 2) & 15] ^ w[t & 15];
            w[t & 15] = rol(x, 1);
        }
        if (t < 20) {
            f = (b & c) | (~b & d);
            k = 0x5A827999UL;
        } else if (t < 40) {
            f = b ^ c ^ d;
            k = 0x6ED9EBA1UL;
        } else if (t < 60) {
            f = (b & c) | (b & d) | (c & d);
            k = 0x8F1BBCDCUL;
        } else {
            f = b ^ c ^ d;
            k = 0xCA62C1D6UL;
        }
        uint32_t tmp = rol(a, 5) + f + e + k + w[t & 15];
        e = d;
        d = c;
        c = rol(b, 30);
        b = a;
        a = tmp;
    }
    s[0] = a;
    s[1] = b;
    s[2] = c;
    s[3] = d;
    s[4] = e;
}

/* Plain SHA-1 of any message up to 65535 bytes; the host tests check it against hashlib,
 * which is what proves the compression above. The linker drops it from the sketch. */
void duco_sha1(const uint8_t *msg, uint16_t len, uint8_t digest[20])
{
    uint32_t h[5], s[5];
    union block blk;
    uint32_t pos = 0;
    uint8_t pad_done = 0, len_done = 0;
    memcpy(h, sha1_init, sizeof h);
    while (!len_done) {
        memset(&blk, 0, sizeof blk);
        for (uint8_t i = 0; i < 64; i++, pos++) {
            if (pos < len)
                blk.b[i ^ 3] = msg[pos];
            else if (!pad_done) {
                blk.b[i ^ 3] = 0x80;
                pad_done = 1;
            }
        }
        /* the 64-bit length goes in the last block only when it still fits after the 0x80 */
        if (pad_done && pos - len >= 9) {
            blk.w[15] = (uint32_t)len << 3;
            blk.w[14] = (uint32_t)len >> 29;
            len_done = 1;
        }
        memcpy(s, h, sizeof s);
        sha1_rounds(s, blk.w, 0, 80);
        for (uint8_t i = 0; i < 5; i++)
            h[i] += s[i];
    }
    for (uint8_t i = 0; i < 20; i++)
        digest[i] = (uint8_t)(h[i >> 2] >> (24 - 8 * (i & 3)));
}

static int8_t hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Prepares a search of nonces 0..100*diff for sha1(last + nonce) == expected. */
void duco_search_start(struct duco_search *s, const char *last, uint8_t last_len,
                       const char *expected, uint8_t expected_len, uint8_t diff)
{
    union block blk;
    memset(s, 0, sizeof *s);
    if (last_len > 40)
        last_len = 40;
    s->len = last_len;
    s->fixed = last_len / 4;
    memset(&blk, 0, sizeof blk);
    for (uint8_t i = 0; i < last_len; i++)
        blk.b[i ^ 3] = (uint8_t)last[i];
    memcpy(s->head, blk.w, sizeof s->head);
    for (uint8_t i = 0; i < last_len - 4 * s->fixed; i++)
        s->tail[i] = (uint8_t)last[4 * s->fixed + i];
    /* rounds 0..fixed-1 only read whole prefix words: they are the same for every nonce */
    memcpy(s->mid, sha1_init, sizeof s->mid);
    sha1_rounds(s->mid, blk.w, 0, s->fixed);

    s->valid = expected_len == 40;
    for (uint8_t i = 0; i < 40 && s->valid; i++) {
        int8_t v = hex_value(expected[i]);
        if (v < 0)
            s->valid = 0;
        else
            s->expect[i >> 3] = (s->expect[i >> 3] << 4) | (uint8_t)v;
    }
    s->last_nonce = (uint16_t)(100 * diff);
}

/* Hashes nonce n of the search; 1 when it matches the expected hash. */
static uint8_t search_try(const struct duco_search *s, uint16_t n)
{
    union block blk;
    uint32_t st[5];
    char digits[5];
    uint8_t nd = 0, p, i;
    do {
        digits[nd++] = (char)('0' + n % 10);
        n /= 10;
    } while (n);
    memcpy(blk.w, s->head, 4 * s->fixed);
    memset(&blk.w[s->fixed], 0, 4 * (16 - s->fixed));
    p = 4 * s->fixed;
    for (i = 0; i < s->len - 4 * s->fixed; i++)
        blk.b[(p++) ^ 3] = s->tail[i];
    while (nd)
        blk.b[(p++) ^ 3] = (uint8_t)digits[--nd];
    blk.b[p ^ 3] = 0x80;
    blk.w[15] = (uint32_t)p << 3; /* message length in bits: prefix + digits */
    memcpy(st, s->mid, sizeof st);
    sha1_rounds(st, blk.w, s->fixed, 80);
    for (i = 0; i < 5; i++)
        if (st[i] + sha1_init[i] != s->expect[i])
            return 0;
    return 1;
}

/* Tries up to budget nonces (0: until the search is over); 1 once it is over. A search
 * with an invalid expected hash still runs the whole range, as the target would. */
uint8_t duco_search_step(struct duco_search *s, uint16_t budget)
{
    while (!s->over) {
        uint8_t hit = search_try(s, s->next);
        s->tried++;
        if (hit && s->valid) {
            s->found = s->next;
            s->over = 1;
        } else if (s->next == s->last_nonce) {
            s->over = 1;
        } else {
            s->next++;
        }
        if (budget && --budget == 0)
            break;
    }
    return s->over;
}

/* ---- the protocol ----------------------------------------------------------------------- */

static const char queued_letters[] = "AILMNOPQHDV";

void duco_init(struct duco *t, uint8_t addr, const uint8_t id[DUCO_ID_BYTES])
{
    memset(t, 0, sizeof *t);
    t->state = 'I';
    t->flag = DUCO_VERSION;
    t->pending = ' ';
    t->addr = addr;
    t->diff = DUCO_DEFAULT_DIFF;
    memcpy(t->id, id, DUCO_ID_BYTES);
}

uint8_t duco_addr_of_eeprom(uint8_t eeprom_byte)
{
    return eeprom_byte > 127 ? DUCO_DEFAULT_ADDR : eeprom_byte;
}

uint8_t duco_is_small(uint8_t addr) { return addr >= 50 && addr <= 99; }

/* "%5d": right-aligned in five characters, longer when the number needs it. Called from
 * the receive interrupt, where the reply buffer is not shared with anything else. */
static void reply_number(struct duco *t, uint32_t v)
{
    char digits[10];
    uint8_t nd = 0, i = 0;
    do {
        digits[nd++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (nd + i < 5)
        t->reply[i++] = ' ';
    while (nd)
        t->reply[i++] = (uint8_t)digits[--nd];
    t->reply_len = i;
}

/* The receive interrupt: one master write. */
void duco_receive(struct duco *t, const uint8_t *data, uint8_t len)
{
    if (!len)
        return; /* an address probe carries no letter */
    uint8_t letter = data[0];
    if (letter == 'S') {
        t->reply[0] = t->state;
        t->reply[1] = t->flag;
        t->reply[2] = t->pending;
        t->reply_len = 3;
    } else if (letter == 'R') {
        reply_number(t, t->result);
    } else if (letter == 'E') {
        reply_number(t, t->elapsed);
    } else if (letter && strchr(queued_letters, letter)) {
        /* one slot: a letter sent before loop() took the previous one replaces it */
        uint8_t n = len - 1 > DUCO_ARGS ? DUCO_ARGS : len - 1;
        for (uint8_t i = 0; i < n; i++)
            t->args[i] = data[1 + i];
        t->nargs = n;
        t->queued = letter;
        t->pending = letter;
        t->state = 'B';
    }
    /* any other letter is ignored */
}

/* The request interrupt: one master read gets the prepared reply; the bus itself makes
 * the bytes past it read as 0xFF. */
uint8_t duco_reply(struct duco *t, uint8_t *out, uint8_t max)
{
    uint8_t n = t->reply_len < max ? t->reply_len : max;
    for (uint8_t i = 0; i < n; i++)
        out[i] = t->reply[i];
    return n;
}

/* One or two leading digits, as the original reads `D`/`V` arguments; -1 when none. */
static int16_t two_digits(const uint8_t *args, uint8_t n)
{
    int16_t v = 0;
    uint8_t used = n < 2 ? n : 2;
    if (!used)
        return -1;
    for (uint8_t i = 0; i < used; i++) {
        if (args[i] < '0' || args[i] > '9')
            return -1;
        v = (int16_t)(v * 10 + (args[i] - '0'));
    }
    return v;
}

static void start_hash(struct duco *t, uint32_t now_ms)
{
    char last[60], expected[60];
    uint8_t last_len = 0, expected_len = 0, first_expected, count, i;
    if (duco_is_small(t->addr)) {
        count = 3;
        first_expected = 3;
    } else {
        count = 2;
        first_expected = 2;
    }
    for (i = 0; i < count; i++) {
        memcpy(last + last_len, t->chunk[i], t->chunk_len[i]);
        last_len += t->chunk_len[i];
        memcpy(expected + expected_len, t->chunk[first_expected + i],
               t->chunk_len[first_expected + i]);
        expected_len += t->chunk_len[first_expected + i];
    }
    duco_search_start(&t->job, last, last_len, expected, expected_len, t->diff);
    DUCO_ATOMIC_BEGIN
    t->result = 0; /* no stale nonce while hashing */
    t->elapsed = 0;
    t->state = 'B';
    if (!t->queued)
        t->pending = 'O';
    t->hashing = 1;
    t->start_ms = now_ms;
    DUCO_ATOMIC_END
}

static void reply_ducoid(struct duco *t)
{
    static const char hex[] = "0123456789ABCDEF";
    DUCO_ATOMIC_BEGIN
    memcpy((uint8_t *)t->reply, "DUCOID", 6);
    for (uint8_t i = 0; i < DUCO_ID_BYTES; i++) {
        t->reply[6 + 2 * i] = (uint8_t)hex[t->id[i] >> 4];
        t->reply[7 + 2 * i] = (uint8_t)hex[t->id[i] & 15];
    }
    t->reply_len = DUCO_REPLY;
    DUCO_ATOMIC_END
}

/* loop(): carries out the queued letter, if any, and returns it (0 when none) so the
 * shell can act on `V` (EEPROM and bus restart). A running hash goes first. */
char duco_loop(struct duco *t, uint32_t now_ms)
{
    uint8_t args[DUCO_ARGS];
    uint8_t letter, n;
    if (t->hashing)
        return 0;
    DUCO_ATOMIC_BEGIN
    letter = t->queued;
    n = t->nargs;
    for (uint8_t i = 0; i < n; i++)
        args[i] = t->args[i];
    if (letter) {
        t->queued = 0;
        t->pending = ' ';
        t->state = 'I';
        t->flag = '?';
    }
    DUCO_ATOMIC_END
    if (!letter)
        return 0;

    if (letter == 'A') {
        t->flag = DUCO_VERSION;
    } else if (letter == 'I') {
        reply_ducoid(t);
    } else if (letter == 'D') {
        int16_t v = two_digits(args, n);
        if (v >= 0)
            t->diff = (uint8_t)v;
    } else if (letter == 'V') {
        int16_t v = two_digits(args, n);
        if (v >= 0)
            t->addr = (uint8_t)v;
    } else if (letter == 'H') {
        start_hash(t, now_ms);
    } else {
        /* L..Q: a chunk of the job, clipped to its slot (20 characters, or 14/14/12 on a
         * small target) so the last block hash never outgrows one SHA-1 block */
        static const uint8_t small_slot[6] = {14, 14, 12, 14, 14, 12};
        uint8_t idx = (uint8_t)(letter - 'L');
        uint8_t small = duco_is_small(t->addr);
        uint8_t slot = small ? small_slot[idx] : 20;
        t->chunk_len[idx] = n < slot ? n : slot;
        memcpy(t->chunk[idx], args, t->chunk_len[idx]);
        if (letter == (small ? 'Q' : 'O'))
            start_hash(t, now_ms);
    }
    return (char)letter;
}

uint8_t duco_work(struct duco *t, uint16_t budget)
{
    if (!t->hashing)
        return 1;
    return duco_search_step(&t->job, budget);
}

/* Ends the running hash at now_ms: result and elapsed become readable, status shows `C`
 * (or stays `B` when a letter was queued meanwhile; loop() runs it next). */
void duco_finish(struct duco *t, uint32_t now_ms)
{
    if (!t->hashing)
        return;
    DUCO_ATOMIC_BEGIN
    t->result = t->job.found;
    t->elapsed = now_ms - t->start_ms;
    t->hashing = 0;
    if (t->queued) {
        t->state = 'B';
    } else {
        t->state = 'C';
        if (t->pending == 'O')
            t->pending = ' ';
    }
    DUCO_ATOMIC_END
}

void duco_set_addr(struct duco *t, uint8_t addr) { t->addr = addr; }
uint8_t duco_addr(const struct duco *t) { return t->addr; }
uint8_t duco_hashing(const struct duco *t) { return t->hashing; }
uint8_t duco_queued(const struct duco *t) { return t->queued; }
uint16_t duco_hashes(const struct duco *t) { return t->job.tried; }
uint16_t duco_size(void) { return sizeof(struct duco); }

void duco_status(const struct duco *t, char out[3])
{
    out[0] = (char)t->state;
    out[1] = (char)t->flag;
    out[2] = (char)t->pending;
}
