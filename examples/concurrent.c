/* concurrent: many requests at once, started from several threads, and a
 * summary of how they went.
 *
 *   concurrent URL [REQUESTS [THREADS]]     (defaults: 100 requests, 4 threads)
 *
 * Each thread starts its share of the requests with nethttp_request() (which
 * may be called from any thread) and returns; nethttp's engine thread runs
 * all transfers at once and calls the callback for each. main() waits until
 * every request has been answered, then prints how many succeeded (2xx),
 * how many failed and how long it took.
 * Exit status: 0 when every request succeeded, 1 otherwise, 2 on bad usage.
 */
#define _POSIX_C_SOURCE 200809L

#include <nethttp.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_THREADS 64

/* Shared by the starting threads, the callback and main(), under `lock`. */
struct tally {
    pthread_mutex_t lock;
    pthread_cond_t all_done;
    int expected;
    int ok;      /* a 2xx response */
    int failed;  /* another status, a failed transfer, or not started */
    int by_status[6];           /* responses by status class: 1xx .. 5xx */
    char first_failure[160];
};

struct starter {
    pthread_t thread;
    const char *url;
    int count;
    struct tally *tally;
};

static void record(struct tally *tally, int status, const char *why) {
    pthread_mutex_lock(&tally->lock);
    if (status >= 200 && status < 300) {
        tally->ok++;
    } else {
        tally->failed++;
        if (tally->first_failure[0] == '\0') {
            snprintf(tally->first_failure, sizeof tally->first_failure, "%s", why);
        }
    }
    if (status >= 100 && status < 600) {
        tally->by_status[status / 100]++;
    }
    if (tally->ok + tally->failed == tally->expected) {
        pthread_cond_signal(&tally->all_done);
    }
    pthread_mutex_unlock(&tally->lock);
}

static int on_response(const char *body, size_t body_len, int status,
                       const struct nethttp_response *response, void *userdata) {
    char why[64];
    (void)body_len;
    (void)response;
    if (status == 0) {
        snprintf(why, sizeof why, "%s", body); /* the failure's reason */
    } else {
        snprintf(why, sizeof why, "HTTP %d", status);
    }
    record(userdata, status, why);
    return 0;
}

static void *start_requests(void *arg) {
    struct starter *starter = arg;
    for (int i = 0; i < starter->count; i++) {
        if (nethttp_request(starter->url, NULL, on_response, starter->tally) == NULL) {
            char why[160];
            snprintf(why, sizeof why, "not started: %s", nethttp_last_error());
            record(starter->tally, 0, why);
        }
    }
    return NULL;
}

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

int main(int argc, char **argv) {
    struct tally tally;
    struct starter starters[MAX_THREADS];
    int requests = argc > 2 ? atoi(argv[2]) : 100;
    int threads = argc > 3 ? atoi(argv[3]) : 4;
    double started, elapsed;

    if (argc < 2 || argc > 4 || requests < 1 || threads < 1 || threads > MAX_THREADS) {
        fprintf(stderr, "usage: %s URL [REQUESTS [THREADS (1..%d)]]\n", argv[0], MAX_THREADS);
        return 2;
    }
    if (threads > requests) {
        threads = requests;
    }
    memset(&tally, 0, sizeof tally);
    pthread_mutex_init(&tally.lock, NULL);
    pthread_cond_init(&tally.all_done, NULL);
    tally.expected = requests;

    started = now_ms();
    for (int t = 0; t < threads; t++) {
        starters[t].url = argv[1];
        starters[t].count = requests / threads + (t < requests % threads ? 1 : 0);
        starters[t].tally = &tally;
        if (pthread_create(&starters[t].thread, NULL, start_requests, &starters[t]) != 0) {
            fprintf(stderr, "cannot start a thread\n");
            while (t-- > 0) {
                pthread_join(starters[t].thread, NULL);
            }
            nethttp_shutdown(); /* no callback will touch `tally` after this */
            return 1;
        }
    }
    for (int t = 0; t < threads; t++) {
        pthread_join(starters[t].thread, NULL);
    }

    pthread_mutex_lock(&tally.lock);
    while (tally.ok + tally.failed < tally.expected) {
        pthread_cond_wait(&tally.all_done, &tally.lock);
    }
    pthread_mutex_unlock(&tally.lock);
    elapsed = now_ms() - started;

    printf("%d requests from %d threads to %s\n", requests, threads, argv[1]);
    printf("ok: %d  failed: %d  elapsed: %.1f ms  (%.0f requests/s)\n", tally.ok, tally.failed, elapsed,
           elapsed > 0 ? requests * 1000.0 / elapsed : 0.0);
    printf("by status: 1xx %d, 2xx %d, 3xx %d, 4xx %d, 5xx %d\n", tally.by_status[1], tally.by_status[2],
           tally.by_status[3], tally.by_status[4], tally.by_status[5]);
    if (tally.failed > 0) {
        printf("first failure: %s\n", tally.first_failure);
    }

    nethttp_shutdown();
    pthread_cond_destroy(&tally.all_done);
    pthread_mutex_destroy(&tally.lock);
    return tally.failed == 0 ? 0 : 1;
}
