/*
 * Disk benchmark guest: reads "PATTERN OPS SEED\n" from the UART (PATTERN: seq-read, seq-write,
 * rand-read, rand-write), then issues OPS requests of 4 KiB on the first virtio-blk disk (modern
 * or legacy transport), polling each to completion, and a FLUSH after writes. It times itself with
 * mtime (run vmlab with --realtime so mtime follows the host clock) and prints bytes and ticks.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define MTIME_LO (*(volatile uint32_t *)0x0200bff8u)
#define MTIME_HI (*(volatile uint32_t *)0x0200bffcu)
#define QSZ 8
#define BLOCK 4096u

struct desc { uint64_t addr; uint32_t len; uint16_t flags; uint16_t next; };
struct hdr { uint32_t type; uint32_t reserved; uint64_t sector; };

static uint8_t ring[2 * 4096] __attribute__((aligned(4096)));
static uint8_t buf[BLOCK] __attribute__((aligned(4096)));
static struct hdr hdr;
static volatile uint8_t status;
static uintptr_t dev;
static uint16_t avail_idx;

static struct desc *const descs = (struct desc *)ring;
static volatile uint16_t *const avail = (volatile uint16_t *)(ring + 16 * QSZ);
static volatile uint16_t *const used_idx = (volatile uint16_t *)(ring + 4096 + 2);

static uint32_t rd(uint32_t off) { return *(volatile uint32_t *)(dev + off); }
static void wr(uint32_t off, uint32_t v) { *(volatile uint32_t *)(dev + off) = v; }

static uint64_t mtime(void)
{
    uint32_t hi, lo;
    do {
        hi = MTIME_HI;
        lo = MTIME_LO;
    } while (hi != MTIME_HI);
    return ((uint64_t)hi << 32) | lo;
}

static int request(uint32_t type, uint64_t sector, uint32_t len)
{
    hdr.type = type;
    hdr.sector = sector;
    status = 0xff;
    descs[0] = (struct desc){ (uintptr_t)&hdr, sizeof hdr, 1, 1 };
    uint16_t last = 1;
    if (len) {
        descs[1] = (struct desc){ (uintptr_t)buf, len, (uint16_t)(type == 0 ? 3 : 1), 2 };
        last = 2;
    }
    descs[last] = (struct desc){ (uintptr_t)&status, 1, 2, 0 };
    avail[2 + avail_idx % QSZ] = 0;
    __sync_synchronize();
    avail[1] = ++avail_idx;
    __sync_synchronize();
    wr(0x50, 0);
    while (*used_idx != avail_idx) __sync_synchronize();
    wr(0x64, rd(0x60));
    return status;
}

static int setup(void)
{
    for (int slot = 0; slot < 8; slot++) {
        dev = 0x10001000u + (uint32_t)slot * 0x1000u;
        if (rd(0x8) == 2) break;
        if (slot == 7) return -1;
    }
    int legacy = rd(0x4) == 1;
    wr(0x70, 0);
    wr(0x70, 3);
    wr(0x24, 0);
    wr(0x20, 1u << 9);
    wr(0x24, 1);
    wr(0x20, legacy ? 0 : 1);
    if (!legacy) wr(0x70, 11);
    wr(0x30, 0);
    wr(0x38, QSZ);
    if (legacy) {
        wr(0x28, 4096);
        wr(0x3c, 4096);
        wr(0x40, (uint32_t)((uintptr_t)ring >> 12));
    } else {
        wr(0x80, (uint32_t)(uintptr_t)ring);
        wr(0x84, 0);
        wr(0x90, (uint32_t)(uintptr_t)avail);
        wr(0x94, 0);
        wr(0xa0, (uint32_t)(uintptr_t)(ring + 4096));
        wr(0xa4, 0);
        wr(0x44, 1);
    }
    wr(0x70, rd(0x70) | 4);
    return 0;
}

static char line[64];

int main(void)
{
    unsigned n = 0;
    for (int c; n + 1 < sizeof line && (c = getchar()) != '\n' && c != EOF;) line[n++] = (char)c;
    line[n] = 0;
    char pattern[16];
    unsigned long ops, seed;
    if (sscanf(line, "%15s %lu %lu", pattern, &ops, &seed) != 3 || setup() < 0) {
        printf("usage: PATTERN OPS SEED on the UART, and a disk\n");
        return 1;
    }
    int write = strstr(pattern, "write") != 0;
    int random = strncmp(pattern, "rand", 4) == 0;
    uint32_t cap = *(volatile uint32_t *)(dev + 0x100);
    uint32_t blocks = cap / 8 - 1; /* 4 KiB blocks after the first */
    uint32_t x = (uint32_t)seed;
    for (uint32_t i = 0; i < BLOCK; i++) buf[i] = (uint8_t)(i * 7 + seed);
    int errors = 0;
    uint64_t t0 = mtime();
    for (unsigned long i = 0; i < ops; i++) {
        uint32_t block;
        if (random) {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            block = x % blocks;
        } else {
            block = (uint32_t)(i % blocks);
        }
        errors += request(write ? 1 : 0, 8 + (uint64_t)block * 8, BLOCK) != 0;
    }
    if (write) errors += request(4, 0, 0) != 0;
    uint64_t t1 = mtime();
    printf("%s bytes %lu ticks %lu errors %d\n", pattern, (unsigned long)(ops * BLOCK), (unsigned long)(t1 - t0), errors);
    return errors != 0;
}
