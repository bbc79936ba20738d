/* qsort and bsearch from picolibc on integers, strings and structs, with a deterministic generator. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct person {
    char name[12];
    int age;
};

static uint32_t rng = 12345;

static uint32_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 17;
    rng ^= rng << 5;
    return rng;
}

static int cmp_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int cmp_person(const void *a, const void *b)
{
    const struct person *p = a, *q = b;
    if (p->age != q->age)
        return p->age - q->age;
    return strcmp(p->name, q->name);
}

int main(void)
{
    static int v[1000];
    for (int i = 0; i < 1000; i++)
        v[i] = (int)(next() % 20001) - 10000;
    qsort(v, 1000, sizeof v[0], cmp_int);
    int sorted = 1;
    uint32_t sum = 0;
    for (int i = 0; i < 1000; i++) {
        if (i > 0 && v[i - 1] > v[i])
            sorted = 0;
        sum = sum * 31 + (uint32_t)v[i];
    }
    printf("ints sorted=%d min=%d max=%d median=%d hash=%08lx\n", sorted, v[0], v[999], v[500], (unsigned long)sum);
    int key = v[123];
    int *found = bsearch(&key, v, 1000, sizeof v[0], cmp_int);
    printf("bsearch %d -> %s\n", key, found && *found == key ? "found" : "missing");

    const char *words[] = {"pear", "apple", "fig", "banana", "cherry", "date", "elderberry", "grape"};
    qsort(words, 8, sizeof words[0], cmp_str);
    for (int i = 0; i < 8; i++)
        printf("%s%c", words[i], i == 7 ? '\n' : ' ');

    struct person people[] = {{"ada", 36}, {"alan", 41}, {"grace", 36}, {"edsger", 72}, {"barbara", 41}};
    qsort(people, 5, sizeof people[0], cmp_person);
    for (int i = 0; i < 5; i++)
        printf("%-8s %3d\n", people[i].name, people[i].age);
    return 0;
}
