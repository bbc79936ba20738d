/*
 * A small virtio-blk driver over virtio-mmio, legacy (version 1) or modern (version 2) as the
 * transport reports: probes the eight virt slots, prints the first disk's features and
 * configuration, then GET_ID, reads, writes, flushes, reads back, an indirect read, write-zeroes,
 * and the errors a well-formed request can get (IOERR past the end, UNSUPP for an unknown type).
 * Requests are polled on the used ring. Without a disk it says so and passes.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define VIRTIO_BASE 0x10001000u
#define VIRTIO_STRIDE 0x1000u

#define R_MAGIC 0x000
#define R_VERSION 0x004
#define R_DEVICE_ID 0x008
#define R_VENDOR 0x00c
#define R_DEV_FEATURES 0x010
#define R_DEV_FEATURES_SEL 0x014
#define R_DRV_FEATURES 0x020
#define R_DRV_FEATURES_SEL 0x024
#define R_GUEST_PAGE_SIZE 0x028
#define R_QUEUE_SEL 0x030
#define R_QUEUE_NUM_MAX 0x034
#define R_QUEUE_NUM 0x038
#define R_QUEUE_ALIGN 0x03c
#define R_QUEUE_PFN 0x040
#define R_QUEUE_READY 0x044
#define R_QUEUE_NOTIFY 0x050
#define R_ISR 0x060
#define R_ISR_ACK 0x064
#define R_STATUS 0x070
#define R_DESC_LO 0x080
#define R_DESC_HI 0x084
#define R_DRIVER_LO 0x090
#define R_DRIVER_HI 0x094
#define R_DEVICE_LO 0x0a0
#define R_DEVICE_HI 0x0a4
#define R_CONFIG 0x100

#define S_ACK 1u
#define S_DRIVER 2u
#define S_DRIVER_OK 4u
#define S_FEATURES_OK 8u

#define F_SEG_MAX (1u << 2)
#define F_BLK_SIZE (1u << 6)
#define F_FLUSH (1u << 9)
#define F_WRITE_ZEROES (1u << 14)
#define F_INDIRECT (1u << 28)
#define F_VERSION_1_HI (1u << 0)

#define T_IN 0u
#define T_OUT 1u
#define T_FLUSH 4u
#define T_GET_ID 8u
#define T_WRITE_ZEROES 13u

#define QSZ 8
#define D_NEXT 1u
#define D_WRITE 2u
#define D_INDIRECT 4u

struct desc {
    uint64_t addr;
    uint32_t len;
    uint16_t flags;
    uint16_t next;
};

struct req_hdr {
    uint32_t type;
    uint32_t reserved;
    uint64_t sector;
};

/* Legacy layout with QueueAlign 4096: descriptors and avail ring in page 0, used ring in page 1. */
static uint8_t ring[2 * 4096] __attribute__((aligned(4096)));
static struct desc indirect_table[4] __attribute__((aligned(16)));
static struct req_hdr hdr;
static uint8_t data[4096];
static uint8_t back[4096];
static volatile uint8_t status;
static uint16_t avail_idx;
static uint16_t used_seen;
static uintptr_t dev;

static struct desc *const descs = (struct desc *)ring;
static volatile uint16_t *const avail = (volatile uint16_t *)(ring + 16 * QSZ);
static volatile uint32_t *const used = (volatile uint32_t *)(ring + 4096);

static uint32_t rd(uint32_t off) { return *(volatile uint32_t *)(dev + off); }
static void wr(uint32_t off, uint32_t v) { *(volatile uint32_t *)(dev + off) = v; }

static uint32_t fnv(const uint8_t *p, uint32_t n)
{
    uint32_t h = 2166136261u;
    for (uint32_t i = 0; i < n; i++) h = (h ^ p[i]) * 16777619u;
    return h;
}

/* Offers the chain at descriptor `head`, notifies, and polls the used ring; returns the used length. */
static int32_t submit(uint16_t head)
{
    avail[2 + avail_idx % QSZ] = head;
    __sync_synchronize();
    avail_idx++;
    avail[1] = avail_idx;
    __sync_synchronize();
    wr(R_QUEUE_NOTIFY, 0);
    for (uint32_t spin = 0; spin < 100000000u; spin++) {
        __sync_synchronize();
        if ((uint16_t)(*(volatile uint16_t *)((uint8_t *)used + 2)) != used_seen) {
            uint32_t slot = used_seen % QSZ;
            used_seen++;
            if (used[1 + 2 * slot] != head) printf("used id %lu, expected %u\n", (unsigned long)used[1 + 2 * slot], head);
            return (int32_t)used[2 + 2 * slot];
        }
    }
    printf("timeout waiting for the device\n");
    return -1;
}

/* A header / data / status chain at descriptors 0..2; `len` 0 leaves the data descriptor out. */
static int request(uint32_t type, uint64_t sector, void *buf, uint32_t len, int device_writes)
{
    hdr.type = type;
    hdr.reserved = 0;
    hdr.sector = sector;
    status = 0xee;
    descs[0] = (struct desc){ (uintptr_t)&hdr, sizeof hdr, D_NEXT, 1 };
    uint16_t last = 1;
    if (len > 0) {
        descs[1] = (struct desc){ (uintptr_t)buf, len, (uint16_t)(D_NEXT | (device_writes ? D_WRITE : 0)), 2 };
        last = 2;
    }
    descs[last] = (struct desc){ (uintptr_t)&status, 1, D_WRITE, 0 };
    int32_t used_len = submit(0);
    printf("  status %u, used length %ld\n", status, (long)used_len);
    return status;
}

static void print_bytes(const char *what, const uint8_t *p, uint32_t n)
{
    printf("%s:", what);
    for (uint32_t i = 0; i < n; i++) printf(" %02x", p[i]);
    printf("\n");
}

#define PLIC 0x0c000000u
#define PLIC_ENABLE_M (*(volatile uint32_t *)(PLIC + 0x2000u))
#define PLIC_THRESHOLD_M (*(volatile uint32_t *)(PLIC + 0x200000u))
#define PLIC_CLAIM_M (*(volatile uint32_t *)(PLIC + 0x200004u))
#define MIP_MEIP (1u << 11)

static uint32_t read_mip(void)
{
    uint32_t v;
    __asm__ volatile("csrr %0, mip" : "=r"(v));
    return v;
}

/*
 * A read completed by interrupt: PLIC source 1 + slot enabled for hart 0 M-mode, mie.MEIE set with
 * mstatus.MIE clear, so WFI wakes on the interrupt without taking a trap.
 */
static void interrupt_read(int slot)
{
    uint32_t src = 1u + (uint32_t)slot;
    ((volatile uint32_t *)PLIC)[src] = 1;
    PLIC_ENABLE_M = 1u << src;
    PLIC_THRESHOLD_M = 0;
    wr(R_ISR_ACK, rd(R_ISR));
    for (uint32_t c; (c = PLIC_CLAIM_M) != 0;) PLIC_CLAIM_M = c;
    __asm__ volatile("csrs mie, %0" : : "r"(MIP_MEIP));
    printf("interrupt-driven read of sector 3: MEIP before %lu\n", (unsigned long)((read_mip() & MIP_MEIP) != 0));
    hdr.type = T_IN;
    hdr.sector = 3;
    status = 0xee;
    descs[0] = (struct desc){ (uintptr_t)&hdr, sizeof hdr, D_NEXT, 1 };
    descs[1] = (struct desc){ (uintptr_t)back, 512, D_NEXT | D_WRITE, 2 };
    descs[2] = (struct desc){ (uintptr_t)&status, 1, D_WRITE, 0 };
    avail[2 + avail_idx % QSZ] = 0;
    __sync_synchronize();
    avail[1] = ++avail_idx;
    __sync_synchronize();
    wr(R_QUEUE_NOTIFY, 0);
    uint32_t wakeups = 0;
    while (!(read_mip() & MIP_MEIP)) {
        __asm__ volatile("wfi");
        wakeups++;
    }
    uint32_t claim = PLIC_CLAIM_M;
    uint32_t isr = rd(R_ISR);
    uint16_t idx = *(volatile uint16_t *)((uint8_t *)used + 2);
    used_seen = idx;
    printf("  claim %lu, isr %lu, status %u, used index %u, fnv %08lx\n", (unsigned long)claim, (unsigned long)isr, status, idx,
           (unsigned long)fnv(back, 512));
    wr(R_ISR_ACK, isr);
    PLIC_CLAIM_M = claim;
    printf("  after ack and complete: MEIP %lu\n", (unsigned long)((read_mip() & MIP_MEIP) != 0));
    __asm__ volatile("csrc mie, %0" : : "r"(MIP_MEIP));
    (void)wakeups;
}

static int find_disk(void)
{
    int found = -1;
    for (int slot = 0; slot < 8; slot++) {
        dev = VIRTIO_BASE + (uint32_t)slot * VIRTIO_STRIDE;
        printf("slot %d: magic %08lx version %lu device %lu vendor %08lx\n", slot, (unsigned long)rd(R_MAGIC),
               (unsigned long)rd(R_VERSION), (unsigned long)rd(R_DEVICE_ID), (unsigned long)rd(R_VENDOR));
        if (found < 0 && rd(R_DEVICE_ID) == 2) found = slot;
    }
    return found;
}

static void print_config(void)
{
    volatile uint8_t *cfg = (volatile uint8_t *)(dev + R_CONFIG);
    uint32_t cap_lo = *(volatile uint32_t *)(cfg + 0), cap_hi = *(volatile uint32_t *)(cfg + 4);
    printf("capacity %lu:%lu sectors, seg_max %lu, geometry %u/%u/%u, blk_size %lu, writeback %u, num_queues %u\n",
           (unsigned long)cap_hi, (unsigned long)cap_lo, (unsigned long)*(volatile uint32_t *)(cfg + 0x0c),
           *(volatile uint16_t *)(cfg + 0x10), cfg[0x12], cfg[0x13], (unsigned long)*(volatile uint32_t *)(cfg + 0x14),
           cfg[0x20], *(volatile uint16_t *)(cfg + 0x22));
    printf("discard %lu/%lu/%lu, write zeroes %lu/%lu/%u, past the end %08lx\n",
           (unsigned long)*(volatile uint32_t *)(cfg + 0x24), (unsigned long)*(volatile uint32_t *)(cfg + 0x28),
           (unsigned long)*(volatile uint32_t *)(cfg + 0x2c), (unsigned long)*(volatile uint32_t *)(cfg + 0x30),
           (unsigned long)*(volatile uint32_t *)(cfg + 0x34), cfg[0x38], (unsigned long)*(volatile uint32_t *)(cfg + 0x38));
}

static int init_device(int legacy, uint32_t features_lo)
{
    wr(R_STATUS, 0);
    wr(R_STATUS, S_ACK);
    wr(R_STATUS, S_ACK | S_DRIVER);
    uint32_t accept = features_lo & (F_SEG_MAX | F_BLK_SIZE | F_FLUSH | F_WRITE_ZEROES | F_INDIRECT);
    wr(R_DRV_FEATURES_SEL, 0);
    wr(R_DRV_FEATURES, accept);
    wr(R_DRV_FEATURES_SEL, 1);
    wr(R_DRV_FEATURES, legacy ? 0 : F_VERSION_1_HI);
    if (!legacy) {
        wr(R_STATUS, S_ACK | S_DRIVER | S_FEATURES_OK);
        if (!(rd(R_STATUS) & S_FEATURES_OK)) {
            printf("FEATURES_OK refused\n");
            return -1;
        }
    }
    wr(R_QUEUE_SEL, 0);
    printf("queue 0: max %lu", (unsigned long)rd(R_QUEUE_NUM_MAX));
    wr(R_QUEUE_SEL, 1);
    printf(", queue 1: max %lu\n", (unsigned long)rd(R_QUEUE_NUM_MAX));
    wr(R_QUEUE_SEL, 0);
    wr(R_QUEUE_NUM, QSZ);
    if (legacy) {
        wr(R_GUEST_PAGE_SIZE, 4096);
        wr(R_QUEUE_ALIGN, 4096);
        wr(R_QUEUE_PFN, (uint32_t)((uintptr_t)ring >> 12));
    } else {
        wr(R_DESC_LO, (uint32_t)(uintptr_t)descs);
        wr(R_DESC_HI, 0);
        wr(R_DRIVER_LO, (uint32_t)(uintptr_t)avail);
        wr(R_DRIVER_HI, 0);
        wr(R_DEVICE_LO, (uint32_t)(uintptr_t)used);
        wr(R_DEVICE_HI, 0);
        wr(R_QUEUE_READY, 1);
    }
    wr(R_STATUS, rd(R_STATUS) | S_DRIVER_OK);
    printf("status %02lx, accepted features %08lx\n", (unsigned long)rd(R_STATUS), (unsigned long)accept);
    return 0;
}

int main(void)
{
    int slot = find_disk();
    if (slot < 0) {
        printf("no virtio-blk device\n");
        return 0;
    }
    dev = VIRTIO_BASE + (uint32_t)slot * VIRTIO_STRIDE;
    int legacy = rd(R_VERSION) == 1;
    wr(R_DEV_FEATURES_SEL, 0);
    uint32_t lo = rd(R_DEV_FEATURES);
    wr(R_DEV_FEATURES_SEL, 1);
    uint32_t hi = rd(R_DEV_FEATURES);
    printf("disk in slot %d, %s transport, features %08lx %08lx\n", slot, legacy ? "legacy" : "modern", (unsigned long)hi, (unsigned long)lo);
    print_config();
    if (init_device(legacy, lo) < 0) return 1;

    printf("GET_ID\n");
    memset(data, 0xaa, 20);
    request(T_GET_ID, 0, data, 20, 1);
    print_bytes("  id", data, 20);

    printf("read sectors 0-3\n");
    request(T_IN, 0, data, 2048, 1);
    printf("  fnv %08lx\n", (unsigned long)fnv(data, 2048));
    print_bytes("  sector 0", data, 16);

    /* The boot counter in sector 1's first word, and sectors 4-5 rewritten from sectors 0-1. */
    uint32_t count = ((uint32_t *)data)[128] + 1;
    for (uint32_t i = 0; i < 1024; i++) data[i] = (uint8_t)(data[i] ^ (0x5a + i + count));
    printf("write sectors 4-5\n");
    request(T_OUT, 4, data, 1024, 0);
    memcpy(back, &count, 4);
    memset(back + 4, 0, 508);
    printf("write the counter %lu to sector 1\n", (unsigned long)count);
    request(T_OUT, 1, back, 512, 0);
    printf("flush\n");
    request(T_FLUSH, 0, 0, 0, 0);
    printf("read back sectors 4-5\n");
    request(T_IN, 4, back, 1024, 1);
    printf("  %s, fnv %08lx\n", memcmp(back, data, 1024) == 0 ? "same" : "DIFFERENT", (unsigned long)fnv(back, 1024));

    if (lo & F_INDIRECT) {
        printf("indirect read of sector 2 into 300 + 212 bytes\n");
        hdr.type = T_IN;
        hdr.sector = 2;
        status = 0xee;
        indirect_table[0] = (struct desc){ (uintptr_t)&hdr, sizeof hdr, D_NEXT, 1 };
        indirect_table[1] = (struct desc){ (uintptr_t)back, 300, D_NEXT | D_WRITE, 2 };
        indirect_table[2] = (struct desc){ (uintptr_t)(back + 1000), 212, D_NEXT | D_WRITE, 3 };
        indirect_table[3] = (struct desc){ (uintptr_t)&status, 1, D_WRITE, 0 };
        descs[5] = (struct desc){ (uintptr_t)indirect_table, sizeof indirect_table, D_INDIRECT, 0 };
        int32_t n = submit(5);
        memmove(back + 300, back + 1000, 212);
        printf("  status %u, used length %ld, fnv %08lx\n", status, (long)n, (unsigned long)fnv(back, 512));
    }

    if (lo & F_WRITE_ZEROES) {
        printf("write zeroes to sectors 6-7\n");
        struct { uint64_t sector; uint32_t num; uint32_t flags; } seg = { 6, 2, 0 };
        request(T_WRITE_ZEROES, 0, &seg, sizeof seg, 0);
        request(T_IN, 6, back, 1024, 1);
        uint32_t nonzero = 0;
        for (uint32_t i = 0; i < 1024; i++) nonzero += back[i] != 0;
        printf("  %lu nonzero bytes\n", (unsigned long)nonzero);
    }

    interrupt_read(slot);

    uint32_t cap = *(volatile uint32_t *)(dev + R_CONFIG);
    printf("read past the end\n");
    request(T_IN, cap - 1, data, 1024, 1);
    printf("unknown request type\n");
    request(0x55, 0, 0, 0, 0);
    printf("interrupt status %lu\n", (unsigned long)rd(R_ISR));
    wr(R_ISR_ACK, rd(R_ISR));
    printf("after ack %lu\n", (unsigned long)rd(R_ISR));
    wr(R_STATUS, 0);
    printf("after reset: status %lu\n", (unsigned long)rd(R_STATUS));
    return 0;
}
