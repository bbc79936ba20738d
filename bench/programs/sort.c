/* Sorting: quicksort and merge sort of 64k 32-bit keys, repeated with fresh data. */
#include <stdint.h>
#include <stdio.h>

#define N 65536
#define ROUNDS 16

static uint32_t a[N], tmp[N];
static uint32_t seed = 88172645u;

static uint32_t rnd(void)
{
    seed ^= seed << 13;
    seed ^= seed >> 17;
    seed ^= seed << 5;
    return seed;
}

static void quicksort(uint32_t *v, int lo, int hi)
{
    while (lo < hi) {
        uint32_t p = v[(lo + hi) / 2];
        int i = lo, j = hi;
        while (i <= j) {
            while (v[i] < p)
                i++;
            while (v[j] > p)
                j--;
            if (i <= j) {
                uint32_t t = v[i];
                v[i++] = v[j];
                v[j--] = t;
            }
        }
        if (j - lo < hi - i) {
            quicksort(v, lo, j);
            lo = i;
        } else {
            quicksort(v, i, hi);
            hi = j;
        }
    }
}

static void mergesort(uint32_t *v, int n)
{
    for (int width = 1; width < n; width *= 2) {
        for (int lo = 0; lo < n; lo += 2 * width) {
            int mid = lo + width < n ? lo + width : n;
            int hi = lo + 2 * width < n ? lo + 2 * width : n;
            int i = lo, j = mid, k = lo;
            while (i < mid && j < hi)
                tmp[k++] = v[i] <= v[j] ? v[i++] : v[j++];
            while (i < mid)
                tmp[k++] = v[i++];
            while (j < hi)
                tmp[k++] = v[j++];
        }
        for (int i = 0; i < n; i++)
            v[i] = tmp[i];
    }
}

int main(void)
{
    uint32_t check = 0;
    int ok = 1;
    for (int r = 0; r < ROUNDS; r++) {
        for (int i = 0; i < N; i++)
            a[i] = rnd();
        if (r & 1)
            mergesort(a, N);
        else
            quicksort(a, 0, N - 1);
        for (int i = 1; i < N; i++)
            if (a[i - 1] > a[i])
                ok = 0;
        check = check * 31 + a[N / 3] + a[N - 1];
    }
    printf("sort: sorted=%d check=%08lx\n", ok, (unsigned long)check);
    return 0;
}
