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

/* FIPS 180-4 initial hash value; kept as code constants, not a table, because a const
 * table costs RAM on the AVR. Cast to 32 bits: on a 64-bit host UL alone would make the
 * final additions 64-bit and they would never wrap like SHA-1's. */
#define SHA1_H0 ((uint32_t)0x67452301UL)
#define SHA1_H1 ((uint32_t)0xEFCDAB89UL)
#define SHA1_H2 ((uint32_t)0x98BADCFEUL)
#define SHA1_H3 ((uint32_t)0x10325476UL)
#define SHA1_H4 ((uint32_t)0xC3D2E1F0UL)

static void sha1_reset(uint32_t s[5])
{
    s[0] = SHA1_H0;
    s[1] = SHA1_H1;
    s[2] = SHA1_H2;
    s[3] = SHA1_H3;
    s[4] = SHA1_H4;
}

static uint32_t rol(uint32_t x, uint8_t n) { return (x << n) | (x >> (32 - n)); }

/* Rounds from..to-1 of the SHA-1 compression on state s, compact rather than fast: for a
 * job's first ten rounds, for duco_sha1 and, on the ATtiny85, for every nonce. The message
 * schedule lives in a 16-word ring (w[t & 15]) instead of 80 words, which keeps the stack at
 * 64 bytes. Rounds before 16 only read w[t], so to <= 10 needs just 10 words. */
static void sha1_rounds(uint32_t s[5], uint32_t *w, uint8_t from, uint8_t to)
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
    sha1_reset(h);
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

static void set_nibble(uint32_t *words, uint8_t pos, uint8_t v)
{
    uint8_t shift = (uint8_t)(4 * (7 - (pos & 7)));
    words[pos >> 3] = (words[pos >> 3] & ~((uint32_t)15 << shift)) | ((uint32_t)v << shift);
}

/* ---- one search ------------------------------------------------------------------------
 *
 * A job's message is the 40-character prefix, the nonce's digits, 0x80 and the length: one
 * SHA-1 block whose words 0..9 are the prefix. The first ten rounds read only those words,
 * so they run once per job (duco_search_prepare) and each nonce costs rounds 10..79.
 */

/* Message bytes 40..47 and the length for nonce n: its digits, 0x80, zeros. Runs at the
 * start and when the nonce gains a digit; every other nonce is one digit increment. */
static void tail_of(struct duco_search *s, uint16_t n)
{
    char digits[5];
    uint8_t nd = 0, p = 0;
    do {
        digits[nd++] = (char)('0' + n % 10);
        n /= 10;
    } while (n);
    s->ndigits = nd;
    s->tail.w[0] = 0;
    s->tail.w[1] = 0;
    while (nd)
        s->tail.b[(p++) ^ 3] = (uint8_t)digits[--nd];
    s->tail.b[p ^ 3] = 0x80;
    s->bits = (uint32_t)(40 + p) << 3;
}

/* The next nonce's digits from this one's, as on paper: a 9 becomes 0 and carries. This
 * replaces a conversion with one 16-bit division per digit for every nonce. */
static void tail_next(struct duco_search *s)
{
    uint8_t p = s->ndigits;
    while (p--) {
        uint8_t *digit = &s->tail.b[p ^ 3];
        if (*digit != '9') {
            (*digit)++;
            return;
        }
        *digit = '0';
    }
    tail_of(s, s->next); /* all nines: one digit more */
}

/* Starts the search with the prefix and expected digest already in s. */
void duco_search_prepare(struct duco_search *s, uint8_t diff)
{
    sha1_reset(s->mid);
    sha1_rounds(s->mid, s->head, 0, 10);
    s->next = 0;
    s->found = 0;
    s->tried = 0;
    s->over = 0;
    s->last_nonce = (uint16_t)(100 * diff);
    tail_of(s, 0);
}

/* A search of nonces 0..100*diff for sha1(last + nonce) == expected, from two strings. The
 * prefix is 40 characters as in every job; any other length matches nothing, as a chunk of
 * the wrong length does on the bus. */
void duco_search_start(struct duco_search *s, const char *last, uint8_t last_len,
                       const char *expected, uint8_t expected_len, uint8_t diff)
{
    memset(s, 0, sizeof *s);
    for (uint8_t i = 0; i < last_len && i < 40; i++)
        ((uint8_t *)s->head)[i ^ 3] = (uint8_t)last[i];
    s->valid = last_len == 40 && expected_len == 40;
    for (uint8_t i = 0; i < 40 && s->valid; i++) {
        int8_t v = hex_value(expected[i]);
        if (v < 0)
            s->valid = 0;
        else
            set_nibble(s->expect, i, (uint8_t)v);
    }
    duco_search_prepare(s, diff);
}

/* the final additions of SHA-1, then the comparison, word by word */
static inline uint8_t is_expected(const struct duco_search *s, uint32_t a, uint32_t b,
                                  uint32_t c, uint32_t d, uint32_t e)
{
    return a + SHA1_H0 == s->expect[0] && b + SHA1_H1 == s->expect[1] &&
           c + SHA1_H2 == s->expect[2] && d + SHA1_H3 == s->expect[3] &&
           e + SHA1_H4 == s->expect[4];
}

/* A chip with under 1 KB of RAM and 8 KB of flash (the ATtiny85) has no room for the fast
 * rounds below and their 320-byte schedule: it runs the plain rounds of sha1_rounds. */
#ifndef DUCO_COMPACT
#if defined(__AVR__) && RAMEND < 0x400
#define DUCO_COMPACT 1
#else
#define DUCO_COMPACT 0
#endif
#endif

#if DUCO_COMPACT

static void search_begin(const struct duco_search *s) { (void)s; }

/* Hashes the nonce whose digits are in s->tail; 1 when the digest is the expected one. */
static uint8_t try_nonce(const struct duco_search *s)
{
    union block blk;
    uint32_t st[5];
    memcpy(blk.w, s->head, sizeof s->head);
    blk.w[10] = s->tail.w[0];
    blk.w[11] = s->tail.w[1];
    memset(&blk.w[12], 0, 3 * sizeof blk.w[0]);
    blk.w[15] = s->bits;
    memcpy(st, s->mid, sizeof st);
    sha1_rounds(st, blk.w, 10, 80);
    return is_expected(s, st[0], st[1], st[2], st[3], st[4]);
}

#else /* the fast rounds */

/* The 70 rounds per nonce are the whole hash rate, so this part is built at -O2 even in the
 * sketch's size-optimised (-Os) build: -O2 keeps more of the state in registers and is 9 %
 * faster here for 166 bytes more flash. -O3 unrolls the loops below until the state no longer
 * fits the registers, and is slower. docs/firmware.md has the measurements. */
#pragma GCC push_options
#pragma GCC optimize("O2")

#if defined(__AVR__)
/* The ATmega has no barrel shifter, and avr-gcc 5.4 builds a 32-bit rotate as two shifts
 * and an OR, a long shift as a loop of one bit per pass: the x >> 27 of a rotate by 5 alone
 * costs about 190 cycles. These are the few instructions each rotate needs; they took a
 * nonce from 40,900 to 11,200 cycles. */

/* rotate left by 1: shift through carry, then the carry back into bit 0 (5 cycles) */
static inline __attribute__((always_inline)) uint32_t rol1(uint32_t x)
{
    __asm__("lsl %A0\n\trol %B0\n\trol %C0\n\trol %D0\n\tadc %A0, __zero_reg__" : "+r"(x));
    return x;
}

/* rotate right by 1: bit 0 parked in the T flag, shifted back in at bit 31 (6 cycles) */
#define AVR_ROR1 "bst %A0, 0\n\tlsr %D0\n\tror %C0\n\tror %B0\n\tror %A0\n\tbld %D0, 7\n\t"

/* rotate left by 30 = right by 2 (12 cycles) */
static inline __attribute__((always_inline)) uint32_t rol30(uint32_t x)
{
    __asm__(AVR_ROR1 AVR_ROR1 : "+r"(x));
    return x;
}

/* rotate left by 5 = left by 8, which is only a byte move done while copying a into a new
 * register, then right by 3 (22 cycles) */
static inline __attribute__((always_inline)) uint32_t rol5(uint32_t x)
{
    uint32_t r;
    __asm__("mov %A0, %D1\n\tmov %B0, %A1\n\tmov %C0, %B1\n\tmov %D0, %C1\n\t"
            AVR_ROR1 AVR_ROR1 AVR_ROR1
            : "=&r"(r) : "r"(x));
    return r;
}
#else
static inline uint32_t rol1(uint32_t x) { return rol(x, 1); }
static inline uint32_t rol30(uint32_t x) { return rol(x, 30); }
static inline uint32_t rol5(uint32_t x) { return rol(x, 5); }
#endif

/* The whole 80-word message schedule, at a fixed address so that its words are reached
 * with direct loads or constant offsets. Words 0..9 and 12..14 are the same for every nonce
 * of a job: duco_search_step writes them once per call. On the host the library may run in
 * several threads at once (ctypes lets go of the GIL), so each thread has its own. */
#if defined(__AVR__)
static uint32_t sched[80];
#else
static _Thread_local uint32_t sched[80];
#endif

static void search_begin(const struct duco_search *s)
{
    memcpy(sched, s->head, sizeof s->head);
    memset(&sched[12], 0, 3 * sizeof sched[0]);
}

#define CH(b, c, d) ((d) ^ ((b) & ((c) ^ (d))))
#define PARITY(b, c, d) ((b) ^ (c) ^ (d))
#define MAJ(b, c, d) (((b) & (c)) | ((d) & ((b) | (c))))
/* One round with the variables in place instead of shifted along: the new a is left in e
 * and b becomes the new c. K is a constant, so it is added as immediates. */
#define ROUND(a, b, c, d, e, F, K, wt)                                     \
    do {                                                                   \
        e += rol5(a) + F(b, c, d) + (uint32_t)(K) + (wt);                  \
        b = rol30(b);                                                      \
    } while (0)
/* five rounds bring every variable back to its role, so a loop of them needs no moves */
#define FIVE(F, K)                                                         \
    ROUND(a, b, c, d, e, F, K, w[0]);                                      \
    ROUND(e, a, b, c, d, F, K, w[1]);                                      \
    ROUND(d, e, a, b, c, F, K, w[2]);                                      \
    ROUND(c, d, e, a, b, F, K, w[3]);                                      \
    ROUND(b, c, d, e, a, F, K, w[4])

/* Hashes the nonce whose digits are in s->tail; 1 when the digest is the expected one. */
static uint8_t try_nonce(const struct duco_search *s)
{
    uint32_t a = s->mid[0], b = s->mid[1], c = s->mid[2], d = s->mid[3], e = s->mid[4];
    uint32_t *x;
    const uint32_t *w;
    sched[10] = s->tail.w[0];
    sched[11] = s->tail.w[1];
    sched[15] = s->bits;
    /* words 16..79 in one pass: x[16] from x[13], x[8], x[2] and x[0] */
    for (x = sched; x < sched + 64; x++)
        x[16] = rol1(x[13] ^ x[8] ^ x[2] ^ x[0]);
    /* rounds 10..79, five at a time, one loop per round function and constant */
    for (w = sched + 10; w < sched + 20; w += 5) {
        FIVE(CH, 0x5A827999UL);
    }
    for (; w < sched + 40; w += 5) {
        FIVE(PARITY, 0x6ED9EBA1UL);
    }
    for (; w < sched + 60; w += 5) {
        FIVE(MAJ, 0x8F1BBCDCUL);
    }
    for (; w < sched + 80; w += 5) {
        FIVE(PARITY, 0xCA62C1D6UL);
    }
    return is_expected(s, a, b, c, d, e);
}

#endif /* DUCO_COMPACT */

/* Tries up to budget nonces (0: until the search is over); 1 once it is over. A search
 * with an invalid expected hash still runs the whole range, as the target would. */
uint8_t duco_search_step(struct duco_search *s, uint16_t budget)
{
    search_begin(s);
    while (!s->over) {
        uint8_t hit = try_nonce(s);
        s->tried++;
        if (hit && s->valid) {
            s->found = s->next;
            s->over = 1;
        } else if (s->next == s->last_nonce) {
            s->over = 1;
        } else {
            s->next++;
            tail_next(s);
        }
        if (budget && --budget == 0)
            break;
    }
    return s->over;
}

#if !DUCO_COMPACT
#pragma GCC pop_options
#endif

/* ---- the protocol ----------------------------------------------------------------------- */

/* The letters loop() carries out: A I L..Q H D V (a range test costs no RAM table). */
static uint8_t is_queued(uint8_t letter)
{
    return letter == 'A' || letter == 'I' || (letter >= 'L' && letter <= 'Q') ||
           letter == 'H' || letter == 'D' || letter == 'V';
}

void duco_init(struct duco *t, uint8_t addr, const uint8_t id[DUCO_ID_BYTES])
{
    memset(t, 0, sizeof *t);
    t->state = 'I';
    t->flag = DUCO_VERSION;
    t->pending = ' ';
    t->addr = addr;
    t->diff = DUCO_DEFAULT_DIFF;
    t->bad_chunks = 0x3F; /* no chunk received yet: nothing can match */
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
    } else if (is_queued(letter)) {
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
    uint8_t used = duco_is_small(t->addr) ? 0x3F : 0x0F; /* L..Q or L..O */
    duco_search_prepare(&t->job, t->diff);
    t->job.valid = !(t->bad_chunks & used);
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

static uint8_t hex_digit(uint8_t v) { return (uint8_t)(v < 10 ? '0' + v : 'A' + v - 10); }

static void reply_ducoid(struct duco *t)
{
    DUCO_ATOMIC_BEGIN
    memcpy((uint8_t *)t->reply, "DUCOID", 6);
    for (uint8_t i = 0; i < DUCO_ID_BYTES; i++) {
        t->reply[6 + 2 * i] = hex_digit(t->id[i] >> 4);
        t->reply[7 + 2 * i] = hex_digit(t->id[i] & 15);
    }
    t->reply_len = DUCO_REPLY;
    DUCO_ATOMIC_END
}

/* A chunk of the job, written at its fixed place: characters straight into the prefix, hex
 * digits straight into the expected digest. A chunk that is not exactly its slot long (or
 * not hex, for the expected hash) makes the job unmatchable, as a wrong-length string would
 * be for the master's own SHA-1. Slots: 20 characters, or 14/14/12 on a small target. */
static void store_chunk(struct duco *t, uint8_t idx, const uint8_t *args, uint8_t n)
{
    uint8_t small = duco_is_small(t->addr);
    uint8_t slot = small ? (idx % 3 == 2 ? 12 : 14) : 20;
    uint8_t part = small ? idx / 3 : idx / 2; /* 0 last block hash, 1 expected hash */
    uint8_t offset = small ? (uint8_t)((idx % 3) * 14) : (uint8_t)((idx % 2) * 20);
    uint8_t bad = n != slot;
    uint8_t used = n < slot ? n : slot;
    for (uint8_t i = 0; i < used; i++) {
        if (part == 0) {
            ((uint8_t *)t->job.head)[(offset + i) ^ 3] = args[i];
        } else if (part == 1) {
            int8_t v = hex_value((char)args[i]);
            if (v < 0)
                bad = 1;
            else
                set_nibble(t->job.expect, (uint8_t)(offset + i), (uint8_t)v);
        }
    }
    if (bad)
        t->bad_chunks |= (uint8_t)(1 << idx);
    else
        t->bad_chunks &= (uint8_t)~(1 << idx);
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
        /* L..Q; `O` starts hashing, or `Q` on a small target */
        store_chunk(t, (uint8_t)(letter - 'L'), args, n);
        if (letter == (duco_is_small(t->addr) ? 'Q' : 'O'))
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
uint16_t duco_search_size(void) { return sizeof(struct duco_search); }
uint16_t duco_search_found(const struct duco_search *s) { return s->found; }
uint16_t duco_search_tried(const struct duco_search *s) { return s->tried; }

void duco_status(const struct duco *t, char out[3])
{
    out[0] = (char)t->state;
    out[1] = (char)t->flag;
    out[2] = (char)t->pending;
}
