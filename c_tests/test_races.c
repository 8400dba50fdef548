/* Races: requests destroyed at random moments from several threads (before
 * the transfer starts, mid-transfer, while the callback runs, after it ran,
 * twice): no callback after a destroy returned, at most one callback each,
 * exactly one for every request not destroyed, and nothing left behind.
 * Then a client freed while other threads keep submitting to other clients:
 * each of its requests called back once before the free returned, none
 * after, the others undisturbed. Iterations are bounded. */
#include <stdatomic.h>

#include "test_util.h"

#define THREADS 4
#define PER_THREAD 400

static struct test_server server;

struct tracked {
    struct nethttp_request *handle;
    atomic_int destroy_returned;
    atomic_int callbacks;
    atomic_int late; /* callbacks that began after destroy returned */
    int destroyed;
    int slow; /* the callback sleeps, so a destroy can meet it running */
};

static struct tracked requests[THREADS][PER_THREAD];
static atomic_int bad_status;

static int tracking_callback(const char *body, size_t body_len, int status,
                             const struct nethttp_response *response, void *userdata) {
    struct tracked *t = (struct tracked *)userdata;
    (void)body, (void)body_len, (void)response;
    if (atomic_load(&t->destroy_returned)) {
        atomic_fetch_add(&t->late, 1);
    }
    atomic_fetch_add(&t->callbacks, 1);
    if (status != 200) {
        atomic_fetch_add(&bad_status, 1);
    }
    if (t->slow) {
        test_sleep_ms(2);
    }
    return (int)(((uintptr_t)t >> 4) % 5 == 0); /* keep some responses */
}

/* A small deterministic generator per thread, so a failure can be replayed. */
static unsigned next_random(unsigned *state) {
    *state = *state * 1103515245u + 12345u;
    return (*state >> 16) & 0x7fff;
}

static void *racer(void *arg) {
    long index = (long)arg;
    unsigned seed = (unsigned)(index + 1) * 7919u;
    char url[256];
    int i;
    for (i = 0; i < PER_THREAD; i++) {
        struct tracked *t = &requests[index][i];
        unsigned r = next_random(&seed);
        const char *paths[] = {"/status/200", "/delay/3", "/bytes/20000", "/chunked/5000"};
        t->slow = (r % 7) == 0;
        test_url(url, sizeof url, server.http_port, paths[r % 4]);
        t->handle = nethttp_request(url, NULL, tracking_callback, t);
        if (t->handle == NULL) {
            fprintf(stderr, "request failed: %s\n", nethttp_last_error());
            continue;
        }
        switch ((r >> 3) % 6) {
        case 0: /* at once, probably before the transfer starts */
            break;
        case 1:
        case 2: /* mid-transfer, or while the callback runs */
            test_sleep_ms((long)(r % 4));
            break;
        case 3: /* never destroyed (unless kept: then at the end) */
            continue;
        case 4: /* late: usually after the callback ran */
            test_sleep_ms(5);
            break;
        default: /* twice */
            nethttp_destroy_request(t->handle);
            break;
        }
        nethttp_destroy_request(t->handle);
        atomic_store(&t->destroy_returned, 1);
        t->destroyed = 1;
    }
    return NULL;
}

struct client_side {
    struct nethttp_client *client;
    atomic_int callbacks;
    atomic_int after_free;
    atomic_int *freed;
};

static int counting_callback(const char *body, size_t body_len, int status,
                             const struct nethttp_response *response, void *userdata) {
    struct client_side *side = (struct client_side *)userdata;
    (void)body, (void)body_len, (void)status, (void)response;
    if (atomic_load(side->freed)) {
        atomic_fetch_add(&side->after_free, 1);
    }
    atomic_fetch_add(&side->callbacks, 1);
    return 0;
}

static atomic_int stop_submitting;
static atomic_int submitted_other;

static void *submitter(void *arg) {
    struct client_side *other = (struct client_side *)arg;
    char url[256];
    test_url(url, sizeof url, server.http_port, "/delay/2");
    while (!atomic_load(&stop_submitting)) {
        if (nethttp_client_request(other->client, url, NULL, counting_callback, other) != NULL) {
            atomic_fetch_add(&submitted_other, 1);
        }
        test_sleep_ms(1);
    }
    return NULL;
}

int main(int argc, char **argv) {
    pthread_t threads[THREADS];
    long i, j;
    int called_once = 0, destroyed = 0, late = 0, twice = 0, missing = 0;
    atomic_int freed = 0, never = 0;
    struct client_side victim = {0}, other = {0};
    char url[256];
    server = test_server_from_args(argc, argv);

    for (i = 0; i < THREADS; i++) {
        pthread_create(&threads[i], NULL, racer, (void *)i);
    }
    for (i = 0; i < THREADS; i++) {
        pthread_join(threads[i], NULL);
    }
    /* Let the requests that were not destroyed finish (bounded). */
    for (i = 0; i < 2000; i++) {
        int pending = 0;
        for (j = 0; j < THREADS * PER_THREAD; j++) {
            struct tracked *t = &requests[j / PER_THREAD][j % PER_THREAD];
            if (t->handle && !t->destroyed && atomic_load(&t->callbacks) == 0) {
                pending++;
            }
        }
        if (pending == 0) {
            break;
        }
        test_sleep_ms(10);
    }
    for (j = 0; j < THREADS * PER_THREAD; j++) {
        struct tracked *t = &requests[j / PER_THREAD][j % PER_THREAD];
        int calls = atomic_load(&t->callbacks);
        late += atomic_load(&t->late);
        twice += calls > 1;
        if (t->destroyed) {
            destroyed++;
        } else if (t->handle) {
            missing += calls != 1;
            called_once += calls == 1;
            nethttp_destroy_request(t->handle); /* frees kept ones; a no-op otherwise */
        }
    }
    printf("races: %d requests, %d destroyed at random moments, %d called back once, "
           "%d late callbacks, %d double callbacks, %d missing\n",
           THREADS * PER_THREAD, destroyed, called_once, late, twice, missing);
    CHECK_INT(late, 0);
    CHECK_INT(twice, 0);
    CHECK_INT(missing, 0);
    CHECK(destroyed > THREADS * PER_THREAD / 3);
    CHECK_INT(atomic_load(&bad_status), 0);
    CHECK_INT(nethttp_live_requests(), 0);

    /* Free a client with requests in flight while threads submit to another. */
    victim.freed = &freed;
    other.freed = &never;
    victim.client = nethttp_client_new(NULL);
    other.client = nethttp_client_new(NULL);
    CHECK(victim.client != NULL && other.client != NULL);
    for (i = 0; i < THREADS; i++) {
        pthread_create(&threads[i], NULL, submitter, &other);
    }
    for (i = 0; i < 200; i++) {
        const char *path = i % 2 ? "/hold?ms=5000" : "/delay/1";
        CHECK(nethttp_client_request(victim.client, test_url(url, sizeof url, server.http_port, path), NULL,
                                     counting_callback, &victim) != NULL);
    }
    test_sleep_ms(50);
    CHECK_INT(nethttp_client_free(victim.client, 0), NETHTTP_RESULT_OK);
    atomic_store(&freed, 1);
    CHECK_INT(atomic_load(&victim.callbacks), 200);
    test_sleep_ms(100);
    CHECK_INT(atomic_load(&victim.after_free), 0);
    CHECK_INT(atomic_load(&victim.callbacks), 200);
    atomic_store(&stop_submitting, 1);
    for (i = 0; i < THREADS; i++) {
        pthread_join(threads[i], NULL);
    }
    CHECK_INT(nethttp_client_free(other.client, 5000), NETHTTP_RESULT_OK);
    CHECK_INT(atomic_load(&other.callbacks), atomic_load(&submitted_other));
    CHECK(atomic_load(&submitted_other) > 0);
    return test_finish("test_races");
}
