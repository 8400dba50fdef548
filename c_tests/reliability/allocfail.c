/* Allocation failure along a request's path, in the manner of curl's
 * torture tests. Run under LD_PRELOAD=libfailmalloc.so (failmalloc.c):
 *
 *   allocfail PORT_FILE CERT_FILE SCENARIO [STRIDE [FIRST]]
 *
 * SCENARIO: get (GET /bytes/1000 over http), post (POST /echo with headers,
 * a body, a timeout and a body limit) or https (GET /status/200 over TLS,
 * verified with the test CA). First a child process counts the M
 * allocations one request makes, from nethttp_client_request() until its
 * callback returned (on every thread: caller, engine). Then, for N = FIRST,
 * FIRST + STRIDE, ... up to M, a child process makes the same request with
 * the Nth allocation failing, on a fresh client (after a warm-up request on
 * another client, so lazily made globals are not counted), then frees the
 * client. Each run must end cleanly:
 * - refused by nethttp_client_request() with a documented code, or
 * - exactly one callback: a response, or a failure with its code;
 * - and the blocks alive after nethttp_client_free() the same as before the
 *   client was made (no leak).
 * A child killed by Rust's allocation-failure abort ("memory allocation of N
 * bytes failed") is counted apart, with the place where the allocation
 * failed (from the shim's stack, resolved with addr2line): those are the
 * points where Rust aborts instead of failing cleanly, listed in the README.
 * So is glibc's abort when it cannot register a thread-local's destructor
 * (the first use of a thread-local on a new engine thread). A block lost
 * when an allocation of libcurl's own failed is listed apart (libcurl's
 * bug). Hangs, other leaks, internal-error, other crashes and a second
 * callback fail the run. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <limits.h>
#include <signal.h>
#include <sys/wait.h>

#include "../test_util.h"

enum kind { RAN_OK, RAN_FAILED, REFUSED, HUNG, TWICE };

struct result {
    enum kind kind;
    int status;
    int code;
    long counted;
    long leaked;
    int fired;
    char message[240]; /* nethttp_last_error() of a refusal */
};

static void (*fm_arm)(long);
static long (*fm_disarm)(void);
static int (*fm_fired)(void);
static long (*fm_live)(void);

static struct test_server server;
static const char *scenario;
static char url[512];

/* The callback: no allocation (it runs inside the armed window). */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static int calls, cb_status, cb_code;

static int on_done(const char *body, size_t body_len, int status, const struct nethttp_response *response,
                   void *userdata) {
    (void)body, (void)body_len, (void)userdata;
    pthread_mutex_lock(&lock);
    calls++;
    cb_status = status;
    cb_code = (int)nethttp_response_error_code(response);
    pthread_cond_broadcast(&cond);
    pthread_mutex_unlock(&lock);
    return 0;
}

static struct nethttp_options *scenario_options(void) {
    struct nethttp_options *options = nethttp_options_new();
    /* Every run ends within these, whatever failed; a callback later than
     * allowed for in one_request() is a hang. */
    nethttp_options_set_timeout_ms(options, 10000);
    nethttp_options_set_connect_timeout_ms(options, 5000);
    if (strcmp(scenario, "post") == 0) {
        nethttp_options_set_body(options, "name=Ada&lang=en", 16);
        nethttp_options_set_header(options, "X-One", "1");
        nethttp_options_set_header(options, "X-Two", "two");
        nethttp_options_set_header(options, "Accept", NULL);
        nethttp_options_set_max_body(options, 1 << 20);
    } else if (strcmp(scenario, "https") == 0) {
        nethttp_options_set_ca_file(options, server.cert_file);
    }
    return options;
}

/* One request on a fresh client; waits for its callback (at most 20 s, twice
 * the request's timeout). */
static int one_request(struct nethttp_client *client, const struct nethttp_options *options, int *refused_code) {
    struct timespec deadline;
    struct nethttp_request *request;
    int seen;
    pthread_mutex_lock(&lock);
    calls = 0;
    pthread_mutex_unlock(&lock);
    request = nethttp_client_request(client, url, options, on_done, NULL);
    if (request == NULL) {
        *refused_code = (int)nethttp_last_error_code();
        return 0;
    }
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += 20;
    pthread_mutex_lock(&lock);
    while (calls == 0 && pthread_cond_timedwait(&cond, &lock, &deadline) == 0) {
    }
    seen = calls;
    pthread_mutex_unlock(&lock);
    return seen;
}

static void child(long n, int result_fd) {
    struct result r;
    struct nethttp_client *warm, *client;
    struct nethttp_options *options;
    int refused = 0, seen;
    long live0;
    memset(&r, 0, sizeof r);
    alarm(60);

    options = scenario_options();
    warm = nethttp_client_new(NULL);
    one_request(warm, options, &refused);
    nethttp_client_free(warm, 5000);
    nethttp_options_free(options);

    /* The thread's last error holds one message at a time: make it hold
     * one now, so that a refusal below replaces it instead of adding one. */
    nethttp_options_set_method(options, "");
    live0 = fm_live();
    options = scenario_options();
    client = nethttp_client_new(NULL);
    fm_arm(n);
    seen = one_request(client, options, &refused);
    r.counted = fm_disarm();
    r.fired = fm_fired();
    if (refused != 0) {
        r.kind = REFUSED;
        r.code = refused;
        snprintf(r.message, sizeof r.message, "%s", nethttp_last_error());
    } else if (seen == 0) {
        r.kind = HUNG;
    } else {
        r.kind = cb_status != 0 ? RAN_OK : RAN_FAILED;
        r.status = cb_status;
        r.code = cb_code;
    }
    nethttp_client_free(client, 5000);
    nethttp_options_free(options);
    if (calls > 1) {
        r.kind = TWICE;
    }
    r.leaked = fm_live() - live0;
    if (write(result_fd, &r, sizeof r) != (ssize_t)sizeof r) {
        _exit(3);
    }
    _exit(0);
}

/* Where the failing allocation was made: the first two frames of its stack
 * (resolved with addr2line, inlined frames included) that are nethttp's or
 * the curl crate's code, or a libcurl function ("a <- b"). */
static int own_frame(const char *name) {
    return strstr(name, "nethttp::") != NULL || strncmp(name, "curl::", 6) == 0 ||
           strncmp(name, "<curl::", 7) == 0 || strncmp(name, "Curl_", 5) == 0 || strncmp(name, "curl_", 5) == 0;
}

static void abort_site(const char *log_path, char *site, size_t size) {
    FILE *log = fopen(log_path, "r");
    char line[1024];
    int found = 0;
    snprintf(site, size, "(no frame of nethttp or libcurl on the stack)");
    while (found < 2 && log != NULL && fgets(line, sizeof line, log) != NULL) {
        char file[700], offset[40], cmd[1024], out[1024], where[1024];
        FILE *a;
        if (sscanf(line, "failmalloc-frame %699s +%39s", file, offset) != 2) {
            continue;
        }
        snprintf(cmd, sizeof cmd, "addr2line -f -C -i -e '%s' %s 2>/dev/null", file, offset);
        if ((a = popen(cmd, "r")) == NULL) {
            continue;
        }
        while (found < 2 && fgets(out, sizeof out, a) != NULL && fgets(where, sizeof where, a) != NULL) {
            const char *base;
            size_t used = found == 0 ? 0 : strlen(site);
            out[strcspn(out, "\n")] = '\0';
            where[strcspn(where, "\n")] = '\0';
            if (!own_frame(out)) {
                continue;
            }
            base = strrchr(where, '/');
            snprintf(site + used, size - used, "%s%.250s (%.60s)", found == 0 ? "" : " <- ", out,
                     base ? base + 1 : where);
            found++;
        }
        pclose(a);
    }
    if (log != NULL) {
        fclose(log);
    }
}

/* True when the failing allocation was made by libcurl or OpenSSL code
 * that nethttp did not call directly: the first frame on its stack outside
 * the shim and libc belongs to libcurl or libssl/libcrypto. */
static int third_party(const char *log_path) {
    FILE *log = fopen(log_path, "r");
    char line[1024], file[700], offset[40];
    int verdict = 0;
    while (log != NULL && fgets(line, sizeof line, log) != NULL) {
        if (sscanf(line, "failmalloc-frame %699s +%39s", file, offset) != 2 || strstr(file, "failmalloc") != NULL ||
            strstr(file, "/libc.so") != NULL) {
            continue;
        }
        verdict = strstr(file, "libcurl") != NULL || strstr(file, "libssl") != NULL || strstr(file, "libcrypto") != NULL;
        break;
    }
    if (log != NULL) {
        fclose(log);
    }
    return verdict;
}

/* Prints where the Nth allocation failed, and what the child wrote that is
 * not the shim's stack (e.g. an abort message). */
static void explain(long n, const char *log_path) {
    char site[600], line[1024];
    FILE *log = fopen(log_path, "r");
    abort_site(log_path, site, sizeof site);
    fprintf(stderr, "  N=%ld failed at: %s\n", n, site);
    if (getenv("ALLOCFAIL_STACKS") != NULL) { /* every frame, for a closer look */
        char cmd[1200];
        snprintf(cmd, sizeof cmd,
                 "sed -n 's/^failmalloc-frame \\(.*\\) +\\(0x[0-9a-f]*\\)$/\\1 \\2/p' '%s' | "
                 "while read f o; do printf '    %%s %%s ' \"${f##*/}\" \"$o\"; "
                 "addr2line -f -C -e \"$f\" \"$o\" | head -1; done >&2",
                 log_path);
        if (system(cmd) != 0) {
            fprintf(stderr, "    (cannot list the stack)\n");
        }
    }
    while (log != NULL && fgets(line, sizeof line, log) != NULL) {
        if (strncmp(line, "failmalloc", 10) != 0) {
            fprintf(stderr, "  N=%ld said: %s", n, line);
        }
    }
    if (log != NULL) {
        fclose(log);
    }
}

#define MAX_SITES 64
struct site {
    char text[600];
    int count;
    long first_n;
};

int main(int argc, char **argv) {
    long stride, first, m, n;
    int runs = 0, ok = 0, failed = 0, oom = 0, refused = 0, refused_oom = 0, aborts = 0, tls_aborts = 0, hangs = 0,
        leaks = 0, libcurl_leaks = 0, crashes = 0, third_party_crashes = 0, twice = 0, internal = 0, nsites = 0, i;
    int codes[256];
    struct site sites[MAX_SITES];
    char log_path[] = "/tmp/nethttp-allocfail-XXXXXX";
    int log_fd;

    if (argc < 4) {
        fprintf(stderr, "usage: %s PORT_FILE CERT_FILE get|post|https [STRIDE [FIRST]]\n", argv[0]);
        return 2;
    }
    server = test_server_from_args(argc, argv);
    scenario = argv[3];
    stride = argc > 4 ? atol(argv[4]) : 1;
    first = argc > 5 ? atol(argv[5]) : 1;
    if (stride < 1 || first < 1) {
        return 2;
    }
    *(void **)&fm_arm = dlsym(RTLD_DEFAULT, "failmalloc_arm");
    *(void **)&fm_disarm = dlsym(RTLD_DEFAULT, "failmalloc_disarm");
    *(void **)&fm_fired = dlsym(RTLD_DEFAULT, "failmalloc_fired");
    *(void **)&fm_live = dlsym(RTLD_DEFAULT, "failmalloc_live");
    if (fm_arm == NULL || fm_disarm == NULL || fm_fired == NULL || fm_live == NULL) {
        fprintf(stderr, "run with LD_PRELOAD=libfailmalloc.so (ctest does)\n");
        return 2;
    }
    if (strcmp(scenario, "get") == 0) {
        test_url(url, sizeof url, server.http_port, "/bytes/1000");
    } else if (strcmp(scenario, "post") == 0) {
        test_url(url, sizeof url, server.http_port, "/echo");
    } else if (strcmp(scenario, "https") == 0) {
        test_https_url(url, sizeof url, server.https_port, "/status/200");
    } else {
        fprintf(stderr, "unknown scenario %s\n", scenario);
        return 2;
    }
    log_fd = mkstemp(log_path);
    if (log_fd < 0) {
        perror("mkstemp");
        return 2;
    }
    memset(codes, 0, sizeof codes);

    /* N = 0 counts (nothing fails); then each N in turn. */
    m = 0;
    for (n = 0; n == 0 || n <= m; n = n == 0 ? first : n + stride) {
        int fds[2], wstatus;
        struct result r;
        ssize_t got;
        pid_t pid;
        fflush(NULL);
        if (pipe(fds) != 0 || ftruncate(log_fd, 0) != 0 || lseek(log_fd, 0, SEEK_SET) != 0) {
            perror("pipe");
            return 2;
        }
        pid = fork();
        if (pid == 0) {
            close(fds[0]);
            dup2(log_fd, 2);
            child(n == 0 ? LONG_MAX : n, fds[1]);
        }
        close(fds[1]);
        memset(&r, 0, sizeof r);
        got = read(fds[0], &r, sizeof r);
        close(fds[0]);
        waitpid(pid, &wstatus, 0);
        if (n == 0) {
            if (got != (ssize_t)sizeof r || r.kind != RAN_OK || r.leaked != 0) {
                fprintf(stderr, "allocfail %s: the request without failures did not succeed cleanly "
                                "(kind %d, status %d, code %d, leaked %ld)\n",
                        scenario, (int)r.kind, r.status, r.code, r.leaked);
                return 1;
            }
            m = r.counted;
            continue;
        }
        runs++;
        if (got != (ssize_t)sizeof r) {
            char text[1024] = "";
            FILE *log = fopen(log_path, "r");
            int rust_oom = 0, glibc_tls = 0;
            while (log != NULL && fgets(text, sizeof text, log) != NULL) {
                rust_oom |= strstr(text, "memory allocation of") != NULL;
                glibc_tls |= strstr(text, "failed to register TLS destructor") != NULL;
            }
            if (log != NULL) {
                fclose(log);
            }
            if (WIFSIGNALED(wstatus) && WTERMSIG(wstatus) == SIGABRT && (rust_oom || glibc_tls)) {
                char site[600], *end;
                if (rust_oom) {
                    aborts++;
                    end = site;
                } else {
                    tls_aborts++;
                    end = site + snprintf(site, sizeof site, "[glibc: TLS destructor] ");
                }
                abort_site(log_path, end, sizeof site - (size_t)(end - site));
                for (i = 0; i < nsites && strcmp(sites[i].text, site) != 0; i++) {
                }
                if (i == nsites && nsites < MAX_SITES) {
                    snprintf(sites[nsites].text, sizeof sites[nsites].text, "%s", site);
                    sites[nsites].count = 0;
                    sites[nsites].first_n = n;
                    nsites++;
                }
                if (i < nsites) {
                    sites[i].count++;
                }
            } else if (third_party(log_path)) {
                char site[600];
                abort_site(log_path, site, sizeof site);
                third_party_crashes++;
                printf("  N=%ld: died (%s %d) after an allocation of libcurl's or OpenSSL's own failed, at %s\n", n,
                       WIFSIGNALED(wstatus) ? "signal" : "exit status",
                       WIFSIGNALED(wstatus) ? WTERMSIG(wstatus) : WEXITSTATUS(wstatus), site);
            } else {
                crashes++;
                fprintf(stderr, "N=%ld: the child died (%s %d) without a result\n", n,
                        WIFSIGNALED(wstatus) ? "signal" : "exit status",
                        WIFSIGNALED(wstatus) ? WTERMSIG(wstatus) : WEXITSTATUS(wstatus));
                explain(n, log_path);
            }
            continue;
        }
        if (r.leaked != 0) {
            char site[600];
            abort_site(log_path, site, sizeof site);
            /* The failing allocation was libcurl's own, and it lost a block. */
            if (strncmp(site, "curl_", 5) == 0 || strncmp(site, "Curl_", 5) == 0) {
                libcurl_leaks++;
                printf("  N=%ld: libcurl lost %ld block(s) after its allocation at %s failed (outcome: %s)\n", n,
                       r.leaked, site, r.kind == RAN_OK ? "a response" : nethttp_strerror(r.code));
            } else {
                leaks++;
                fprintf(stderr, "N=%ld: %ld blocks leaked (outcome %d, %s)\n", n, r.leaked, (int)r.kind,
                        nethttp_strerror(r.code));
                explain(n, log_path);
            }
        }
        if (r.code == NETHTTP_RESULT_INTERNAL) {
            internal++;
            fprintf(stderr, "N=%ld: internal-error%s%s\n", n, r.message[0] ? ": " : "", r.message);
            explain(n, log_path);
        }
        switch (r.kind) {
        case RAN_OK:
            ok++;
            break;
        case RAN_FAILED:
            failed++;
            oom += r.code == NETHTTP_RESULT_OUT_OF_MEMORY;
            codes[r.code & 255]++;
            break;
        case REFUSED:
            refused++;
            refused_oom += r.code == NETHTTP_RESULT_OUT_OF_MEMORY;
            if (r.code != NETHTTP_RESULT_OUT_OF_MEMORY) {
                codes[r.code & 255]++;
            }
            break;
        case HUNG:
            hangs++;
            fprintf(stderr, "N=%ld: no callback within 20 s (the timeout is 10 s)\n", n);
            explain(n, log_path);
            break;
        case TWICE:
            twice++;
            fprintf(stderr, "N=%ld: more than one callback\n", n);
            break;
        }
    }
    close(log_fd);
    unlink(log_path);

    printf("allocfail %s: %ld allocations on the request's path; %d runs (N = %ld, %ld, ... every %ld)\n", scenario,
           m, runs, first, first + stride, stride);
    printf("  response despite the failure: %d\n", ok);
    printf("  failure callback: %d (out-of-memory %d", failed, oom);
    for (i = 1; i < 256; i++) {
        if (codes[i] > 0 && i != NETHTTP_RESULT_OUT_OF_MEMORY) {
            printf(", %s %d", nethttp_strerror(i), codes[i]);
        }
    }
    printf(")\n  refused by nethttp_client_request: %d (out-of-memory %d)\n", refused, refused_oom);
    printf("  aborts: %d by Rust's allocation-failure handler, %d by glibc (TLS destructor), at %d places:\n", aborts,
           tls_aborts, nsites);
    for (i = 0; i < nsites; i++) {
        printf("    %4d x (first N=%ld) %s\n", sites[i].count, sites[i].first_n, sites[i].text);
    }
    printf("  blocks lost inside libcurl: %d runs; processes that died of libcurl's or OpenSSL's own "
           "allocation failure: %d\n",
           libcurl_leaks, third_party_crashes);
    printf("  hangs %d, leaks %d, internal-error %d, double callbacks %d, other crashes %d\n", hangs, leaks, internal,
           twice, crashes);
    printf("allocfail %s: %d runs: %d clean (%d responses, %d failure callbacks, %d refusals), %d aborts, "
           "%d third-party faults, %d failed\n",
           scenario, runs, ok + failed + refused, ok, failed, refused, aborts + tls_aborts,
           libcurl_leaks + third_party_crashes, hangs + leaks + internal + twice + crashes);
    return hangs + leaks + internal + twice + crashes == 0 ? 0 : 1;
}
