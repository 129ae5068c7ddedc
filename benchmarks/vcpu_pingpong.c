// How far apart the machine's first two CPUs are: the round trip of one cache line between two
// threads pinned to CPU 0 and CPU 1 (each waits for the other's write, then writes back).
// On one physical core (SMT siblings) this is ~10-20 ns, within a core complex ~50 ns, across
// complexes or sockets 100-200 ns. In a VM it says where the host placed the two vCPUs right now.
// Built and run by diag_word2vec_cbow.py: cc -O2 -pthread vcpu_pingpong.c; prints one JSON line.
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>

#define ROUNDS 1000000
static _Atomic long flag __attribute__((aligned(64)));

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

static void pin(int cpu) {
    cpu_set_t s;
    CPU_ZERO(&s);
    CPU_SET(cpu, &s);
    pthread_setaffinity_np(pthread_self(), sizeof s, &s);
}

static void *pong(void *arg) {
    (void)arg;
    pin(1);
    for (long i = 0; i < ROUNDS; i++) {
        while (atomic_load_explicit(&flag, memory_order_acquire) != 2 * i + 1)
            ;
        atomic_store_explicit(&flag, 2 * i + 2, memory_order_release);
    }
    return NULL;
}

int main(void) {
    pthread_t t;
    pin(0);
    pthread_create(&t, NULL, pong, NULL);
    double t0 = now();
    for (long i = 0; i < ROUNDS; i++) {
        atomic_store_explicit(&flag, 2 * i + 1, memory_order_release);
        while (atomic_load_explicit(&flag, memory_order_acquire) != 2 * i + 2)
            ;
    }
    double ns = (now() - t0) / ROUNDS * 1e9;
    pthread_join(t, NULL);
    printf("{\"roundtrip_ns\": %.1f}\n", ns);
    return 0;
}
