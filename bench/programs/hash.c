/* Hash loop: FNV-1a and a table-driven CRC-32 over a 64 KiB buffer, many rounds. */
#include <stdint.h>
#include <stdio.h>

#define BUF_SIZE 65536
#define ROUNDS 400

static uint8_t buf[BUF_SIZE];
static uint32_t crc_table[256];

int main(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
        crc_table[i] = c;
    }
    uint32_t x = 2463534242u;
    for (int i = 0; i < BUF_SIZE; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        buf[i] = (uint8_t)x;
    }
    uint32_t fnv = 2166136261u, crc = 0xffffffffu;
    for (int r = 0; r < ROUNDS; r++) {
        for (int i = 0; i < BUF_SIZE; i++) {
            fnv = (fnv ^ buf[i]) * 16777619u;
            crc = crc_table[(crc ^ buf[i]) & 0xff] ^ (crc >> 8);
        }
        buf[r & (BUF_SIZE - 1)] ^= (uint8_t)fnv;
    }
    printf("hash: fnv=%08lx crc=%08lx\n", (unsigned long)fnv, (unsigned long)(crc ^ 0xffffffffu));
    return 0;
}
