/* Structs, unions, bit-fields, function pointers, a linked list on a static pool, and string
   functions (strlen, strcpy, memcmp, memmove, snprintf, strtol). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct flags {
    unsigned a : 3;
    unsigned b : 5;
    signed c : 4;
    unsigned d : 20;
};

union word {
    uint32_t u;
    uint8_t b[4];
    int16_t h[2];
};

struct node {
    int value;
    struct node *next;
};

static struct node pool[64];

static int add(int x, int y) { return x + y; }
static int mul(int x, int y) { return x * y; }
static int sub(int x, int y) { return x - y; }

int main(void)
{
    struct flags f = {5, 17, -3, 0xabcde};
    f.a += 4;
    printf("bitfields a=%u b=%u c=%d d=%x size=%u\n", f.a, f.b, f.c, f.d, (unsigned)sizeof f);
    union word w = {.u = 0x11223344};
    printf("union b0=%02x b3=%02x h1=%04x\n", w.b[0], w.b[3], (uint16_t)w.h[1]);

    int (*ops[3])(int, int) = {add, mul, sub};
    int acc = 1;
    for (int i = 0; i < 30; i++)
        acc = ops[i % 3](acc, i + 2);
    printf("ops acc=%d\n", acc);

    struct node *head = NULL;
    for (int i = 0; i < 64; i++) {
        pool[i].value = (i * 37) % 64;
        pool[i].next = head;
        head = &pool[i];
    }
    struct node *prev = NULL, *cur = head;
    while (cur) {
        struct node *next = cur->next;
        cur->next = prev;
        prev = cur;
        cur = next;
    }
    int checksum = 0, idx = 0;
    for (struct node *p = prev; p; p = p->next)
        checksum += p->value * ++idx;
    printf("list checksum=%d\n", checksum);

    char buf[64];
    strcpy(buf, "operating systems");
    memmove(buf + 4, buf, strlen(buf) + 1);
    printf("memmove: %s len=%u\n", buf, (unsigned)strlen(buf));
    printf("memcmp=%d strncmp=%d\n", memcmp("abc", "abd", 3) < 0, strncmp("kernel", "kernal", 4));
    int len = snprintf(buf, sizeof buf, "%s-%04d-%c", "vm", 42, 'x');
    printf("snprintf '%s' %d\n", buf, len);
    printf("strtol %ld %ld %lu\n", strtol("-12345", NULL, 10), strtol("0x7fff", NULL, 16), strtoul("777", NULL, 8));
    return 0;
}
