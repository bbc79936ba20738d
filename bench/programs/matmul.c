/* Matrix multiply: 96x96 integer matrices, i-k-j order, repeated, with a checksum of the result. */
#include <stdint.h>
#include <stdio.h>

#define M 96
#define ROUNDS 40

static int32_t A[M][M], B[M][M], C[M][M];

int main(void)
{
    for (int i = 0; i < M; i++)
        for (int j = 0; j < M; j++) {
            A[i][j] = (i * 7 + j * 3) % 17 - 8;
            B[i][j] = (i * 5 + j * 11) % 13 - 6;
        }
    uint32_t check = 0;
    for (int r = 0; r < ROUNDS; r++) {
        for (int i = 0; i < M; i++)
            for (int j = 0; j < M; j++)
                C[i][j] = 0;
        for (int i = 0; i < M; i++)
            for (int k = 0; k < M; k++) {
                int32_t aik = A[i][k];
                for (int j = 0; j < M; j++)
                    C[i][j] += aik * B[k][j];
            }
        for (int i = 0; i < M; i++)
            for (int j = 0; j < M; j++)
                check = check * 33 + (uint32_t)C[i][j];
        A[r % M][(r * 7) % M] += 1;
    }
    printf("matmul: check=%08lx c00=%ld\n", (unsigned long)check, (long)C[0][0]);
    return 0;
}
