/* Deep recursion and call-heavy code: Ackermann, Fibonacci, Towers of Hanoi and N-queens. */
#include <stdint.h>
#include <stdio.h>

static unsigned ackermann(unsigned m, unsigned n)
{
    if (m == 0)
        return n + 1;
    if (n == 0)
        return ackermann(m - 1, 1);
    return ackermann(m - 1, ackermann(m, n - 1));
}

static uint32_t fib(uint32_t n)
{
    return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

static unsigned moves;

static void hanoi(int n, int from, int to, int via)
{
    if (n == 0)
        return;
    hanoi(n - 1, from, via, to);
    moves++;
    hanoi(n - 1, via, to, from);
}

static int queens(int n, int row, uint32_t cols, uint32_t d1, uint32_t d2)
{
    if (row == n)
        return 1;
    int count = 0;
    for (int c = 0; c < n; c++) {
        uint32_t a = 1u << c, b = 1u << (row + c), e = 1u << (row - c + n);
        if ((cols & a) || (d1 & b) || (d2 & e))
            continue;
        count += queens(n, row + 1, cols | a, d1 | b, d2 | e);
    }
    return count;
}

int main(void)
{
    printf("ackermann(2,3)=%u ackermann(3,4)=%u\n", ackermann(2, 3), ackermann(3, 4));
    printf("fib(22)=%lu\n", (unsigned long)fib(22));
    hanoi(12, 0, 2, 1);
    printf("hanoi(12) moves=%u\n", moves);
    for (int n = 4; n <= 8; n++)
        printf("queens(%d)=%d\n", n, queens(n, 0, 0, 0, 0));
    return 0;
}
