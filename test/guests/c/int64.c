/* 64-bit arithmetic on a 32-bit hart: libgcc multiply, divide, shifts and comparisons, printed in
   decimal and hex; also 32-bit division edge cases as C defines them. */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>

static volatile int64_t vals[] = {0, 1, -1, 0x7fffffffffffffffll, INT64_MIN, 1234567890123ll, -987654321987ll, 0x100000000ll};

int main(void)
{
    int n = sizeof vals / sizeof vals[0];
    for (int i = 0; i < n; i++) {
        int64_t a = vals[i];
        int64_t b = vals[(i + 3) % n];
        printf("a=%" PRId64 " b=%" PRId64 "\n", a, b);
        printf("  a+b=%" PRIx64 " a-b=%" PRIx64 " a*b=%" PRIx64 "\n", (uint64_t)a + (uint64_t)b, (uint64_t)a - (uint64_t)b, (uint64_t)a * (uint64_t)b);
        if (b != 0 && !(a == INT64_MIN && b == -1))
            printf("  a/b=%" PRId64 " a%%b=%" PRId64 "\n", a / b, a % b);
        if (b != 0)
            printf("  ua/ub=%" PRIu64 " ua%%ub=%" PRIu64 "\n", (uint64_t)a / (uint64_t)b, (uint64_t)a % (uint64_t)b);
        printf("  a<<13=%" PRIx64 " a>>7=%" PRIx64 " ua>>7=%" PRIx64 " a<b=%d ua<ub=%d\n", (uint64_t)a << 13, (uint64_t)(a >> 7), (uint64_t)a >> 7, a < b, (uint64_t)a < (uint64_t)b);
    }
    uint64_t h = 0xcbf29ce484222325ull;
    for (int i = 0; i < 1000; i++)
        h = (h ^ (uint64_t)i) * 0x100000001b3ull;
    printf("fnv64=%016" PRIx64 "\n", h);
    volatile int32_t m = INT32_MIN, z = 0, one = -1;
    printf("i32 min/-1 as unsigned: %" PRIu32 "\n", (uint32_t)m / (uint32_t)one);
    printf("i32 0/-1=%" PRId32 " min%%7=%" PRId32 "\n", z / one, m % 7);
    return 0;
}
