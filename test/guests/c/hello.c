/* picolibc printf formats: integers of every width, padding, strings, characters. */
#include <stdint.h>
#include <stdio.h>

int main(void)
{
    printf("hello from C\n");
    printf("[%d] [%5d] [%-5d] [%05d] [%+d]\n", 42, 42, 42, 42, 42);
    printf("[%u] [%x] [%X] [%#x] [%o]\n", 4000000000u, 0xdeadbeefu, 0xdeadbeefu, 255u, 8u);
    printf("[%s] [%10s] [%-10s] [%.3s]\n", "abc", "right", "left", "truncate");
    printf("[%c%c%c]\n", 'x', 'y', 'z');
    printf("[%lld] [%llu] [%llx]\n", -1234567890123ll, 18446744073709551615ull, 0x123456789abcdefull);
    printf("[%ld] [%hd] [%hhu]\n", (long)INT32_MIN, (short)-2, (unsigned char)300);
    printf("[%p]\n", (void *)0x80001234u);
    return 0;
}
