/*
 * nethttp_bench: nethttp against a hand-written raw libcurl multi loop, in one
 * run, on the same server, with the same workload and the same curl options.
 *
 * Both sides alternate round by round (nethttp first in even rounds, raw
 * libcurl first in odd ones) and the table reports the median of the rounds.
 * Workloads (see bench/README.md for the full story):
 *   throughput  N small GETs at each concurrency level -> requests/s, CPU/request
 *   latency     p50/p99 from "make the request" to "the application sees the
 *               response", taken from the throughput runs at c=1 and c=50,
 *               plus c=1 with every request submitted by the application thread
 *   post        POST with a 16 KiB body at c=50
 *   download    one large GET -> MB/s, minor page faults per download
 *   stream      the same GET through a data callback (nethttp) and a write
 *               callback that only reads the bytes (raw libcurl)
 *   h2          HTTPS GETs at c=50 over HTTP/2 and over HTTP/1.1
 *   memory      N requests held in flight at once, each side in a fresh child
 *               process -> peak RSS per in-flight request
 *   soak        1,000,000 requests, each side in a fresh child process -> RSS
 *               after warm-up vs at the end
 *   encoding    urlencode/urldecode vs curl_easy_escape/curl_easy_unescape
 *
 * The raw side is the floor of what libcurl allows: one multi handle, easy
 * handles reused from a pool (nethttp necessarily builds a new easy handle
 * per request), no header callback, the body appended to a buffer that is
 * kept across requests, a new transfer added as soon as one completes, no
 * poll() while there is new work.
 *
 * Exit status: 0 when every request of every workload succeeded and the
 * encoders agree, 1 otherwise (figures are never judged here), 2 on bad usage.
 */
#include <curl/curl.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "nethttp.h"

/* Under `valgrind --tool=callgrind` (scripts/bench.sh --callgrind) each
 * measured round is dumped on its own, so that its instruction count leaves
 * out start-up, warm-up and this program's statistics. Without valgrind's
 * headers, or outside valgrind, these do nothing. */
#if defined(__has_include)
#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#define BENCH_HAVE_CALLGRIND 1
#endif
#endif
#ifndef BENCH_HAVE_CALLGRIND
#define CALLGRIND_ZERO_STATS
#define CALLGRIND_DUMP_STATS_AT(what) ((void)(what))
#endif

#define MAX_CONC_LEVELS 16
#define MAX_ROWS 128
#define REQUEST_TIMEOUT_MS 120000L
#define CONNECT_TIMEOUT_MS 30000L

/* ------------------------------------------------------------------ */
/* Configuration                                                        */
/* ------------------------------------------------------------------ */

enum {
    W_THROUGHPUT = 1 << 0,
    W_LATENCY = 1 << 1,
    W_POST = 1 << 2,
    W_DOWNLOAD = 1 << 3,
    W_MEMORY = 1 << 4,
    W_SOAK = 1 << 5,
    W_ENCODING = 1 << 6,
    W_DISPATCH = 1 << 7,
    W_IDLE = 1 << 8,
    W_STREAM = 1 << 9,
    W_H2 = 1 << 10,
    W_ALL = (1 << 11) - 1
};

struct config {
    const char *base;       /* http://127.0.0.1:PORT */
    const char *hold_url;   /* endpoint that holds the response */
    const char *idle_url;   /* endpoint that holds it for minutes (idle transfers) */
    int idle[MAX_CONC_LEVELS]; /* idle transfers beside the active ones */
    int nidle;
    const char *status_url; /* nginx stub_status, or NULL */
    const char *tls_base;   /* https://127.0.0.1:PORT (h2 workload), or NULL */
    const char *ca_file;    /* the CA that signed the TLS server's certificate */
    int tls_conc;           /* h2 workload concurrency */
    long requests;          /* per run, throughput */
    int conc[MAX_CONC_LEVELS];
    int nconc;
    int rounds;
    long app_requests; /* c=1 submitted by the application thread */
    long post_requests;
    size_t post_size;
    int post_conc;
    size_t download_size;
    int download_rounds;
    long inflight;
    int mem_rounds;
    long hold_ms; /* how long the hold endpoint holds, for a sanity check */
    long soak;
    int soak_conc;
    size_t enc_size;
    size_t enc_big;
    int enc_rounds;
    const char *markdown;
    const char *data;
    unsigned workloads;
    int sides; /* 1 nethttp, 2 raw libcurl, 3 both (profiling aid) */
    /* Work the raw loop also does, to measure what it costs (profiling aid):
     * RAW_ACCEPT_ENCODING sends nethttp's Accept-Encoding line and lets
     * libcurl decode; RAW_FRESH_HANDLES uses a new easy handle per request,
     * as nethttp must on libcurl < 8.1 (src/libcurl_bugs.rs). */
    int raw_as_nethttp;
    char small_url[512];
    char post_url[512];
    char big_url[512];
    char tls_small_url[512];
};

static struct config cfg = {
    .requests = 20000,
    .idle = {1000, 5000},
    .nidle = 2,
    .conc = {1, 10, 50, 200, 1000},
    .nconc = 5,
    .rounds = 7,
    .app_requests = 10000,
    .post_requests = 20000,
    .post_size = 16384,
    .post_conc = 50,
    .tls_conc = 50,
    .download_size = 64u << 20,
    .download_rounds = 7,
    .inflight = 10000,
    .mem_rounds = 3,
    .soak = 1000000,
    .soak_conc = 4,
    .enc_size = 4u << 20,
    .enc_big = 256u << 20,
    .enc_rounds = 5,
    .workloads = W_ALL,
    .sides = 3,
};

static bool any_failure; /* a request failed or the encoders disagree */

/* ------------------------------------------------------------------ */
/* Small helpers                                                        */
/* ------------------------------------------------------------------ */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* User + system CPU time of the whole process (all threads), in seconds. */
static double cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec * 1e-6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec * 1e-6;
}

/* A field of /proc/self/status in KiB (VmRSS, VmHWM), or -1. */
static long proc_status_kb(const char *field)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (!f)
        return -1;
    char line[256];
    size_t flen = strlen(field);
    long kb = -1;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, field, flen) == 0 && line[flen] == ':') {
            kb = strtol(line + flen + 1, NULL, 10);
            break;
        }
    }
    fclose(f);
    return kb;
}

static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("nethttp_bench: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(2);
}

/* "4 MiB", "64 KiB" or "1000000 B" for a size in bytes. */
static const char *size_label(size_t n, char *buf, size_t len)
{
    if (n >= (1u << 20) && n % (1u << 20) == 0)
        snprintf(buf, len, "%zu MiB", n >> 20);
    else if (n >= 1024 && n % 1024 == 0)
        snprintf(buf, len, "%zu KiB", n >> 10);
    else
        snprintf(buf, len, "%zu B", n);
    return buf;
}

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        die("out of memory (%zu bytes)", n);
    return p;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The p-quantile (0 < p <= 1, nearest rank) of n values; sorts a copy. */
static double quantile(const double *v, size_t n, double p)
{
    if (n == 0)
        return NAN;
    double *s = xmalloc(n * sizeof *s);
    memcpy(s, v, n * sizeof *s);
    qsort(s, n, sizeof *s, cmp_double);
    size_t rank = (size_t)ceil(p * (double)n);
    double q = s[rank ? rank - 1 : 0];
    free(s);
    return q;
}

/* Paired comparison of two series measured round by round (a[i] next to
 * b[i]): the median of a[i] / b[i] (or a[i] - b[i] when `diff`), with the
 * smallest and largest pair in *lo and *hi. Pairs cancel slow drifts of the
 * machine (other load, frequency) that medians of each side would not. */
static double paired(const double *a, const double *b, size_t n, bool diff, double *lo,
                     double *hi);

static double median(const double *v, size_t n)
{
    if (n == 0)
        return NAN;
    double *s = xmalloc(n * sizeof *s);
    memcpy(s, v, n * sizeof *s);
    qsort(s, n, sizeof *s, cmp_double);
    double m = n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    free(s);
    return m;
}

static double paired(const double *a, const double *b, size_t n, bool diff, double *lo,
                     double *hi)
{
    if (n == 0) {
        *lo = *hi = NAN;
        return NAN;
    }
    double *d = calloc(n, sizeof *d); /* (zeroed: quiets a false GCC 12 warning) */
    if (!d)
        die("out of memory");
    for (size_t i = 0; i < n; i++)
        d[i] = diff ? a[i] - b[i] : a[i] / b[i];
    double m = median(d, n);
    *lo = *hi = d[0];
    for (size_t i = 1; i < n; i++) {
        *lo = d[i] < *lo ? d[i] : *lo;
        *hi = d[i] > *hi ? d[i] : *hi;
    }
    free(d);
    return m;
}

/* ------------------------------------------------------------------ */
/* The table                                                            */
/* ------------------------------------------------------------------ */

struct row {
    char workload[96];
    char metric[64];
    char nethttp[32];
    char raw[32];
    char compare[32];
    char target[48];
    char verdict[16];
    char conns[32];
};

static struct row rows[MAX_ROWS];
static int nrows;
static FILE *data_file;

static struct row *add_row(const char *workload, const char *metric)
{
    if (nrows == MAX_ROWS)
        die("too many table rows");
    struct row *r = &rows[nrows++];
    memset(r, 0, sizeof *r);
    snprintf(r->workload, sizeof r->workload, "%s", workload);
    snprintf(r->metric, sizeof r->metric, "%s", metric);
    return r;
}

#define SET(field, ...) snprintf((field), sizeof(field), __VA_ARGS__)

static void print_row(const struct row *r, FILE *out)
{
    fprintf(out, "| %s | %s | %s | %s | %s | %s | %s | %s |\n", r->workload, r->metric,
            r->nethttp, r->raw, r->compare, r->target, r->verdict, r->conns);
}

static void print_table(FILE *out)
{
    fprintf(out, "| Workload | Metric | nethttp | raw libcurl | nethttp vs raw (range) | Target | "
                 "Result | New connections (nethttp / raw) |\n");
    fprintf(out, "|---|---|--:|--:|--:|---|---|--:|\n");
    for (int i = 0; i < nrows; i++)
        print_row(&rows[i], out);
}

static const char *verdict(bool met)
{
    return met ? "met" : "**missed**";
}

/* ------------------------------------------------------------------ */
/* Results of one run of one side                                      */
/* ------------------------------------------------------------------ */

struct job {
    const char *url;
    bool stream;         /* body read as it comes (data / write callback), not kept */
    int nh_http_version; /* nethttp_options_set_http_version() value; 0: not set */
    const char *ca_file; /* CA file for https, or NULL */
    int want_version;    /* HTTP version every response must have (11, 20), or 0 */
    const char *body; /* NULL for GET */
    size_t body_len;
    long n;              /* requests in the run */
    long conc;           /* requests in flight at once */
    long expect_len;     /* expected body length, or -1 */
    double *lat_us;      /* n latencies, or NULL */
    long checkpoint;     /* soak: sample RSS every `checkpoint` completions, or 0 */
    long *rss_kb;        /* soak: n / checkpoint samples */
};

struct result {
    double secs;
    double cpu;
    long failures;
    double first_done; /* seconds from the start to the first completion */
    long minflt;       /* minor page faults of the whole process during the run */
    long version_ok;   /* responses with the job's want_version */
};

static void report_failure(const char *side, const char *what)
{
    static atomic_int printed;
    if (atomic_fetch_add(&printed, 1) < 10)
        fprintf(stderr, "nethttp_bench: %s request failed: %s\n", side, what);
}

/* ------------------------------------------------------------------ */
/* The raw libcurl side                                                 */
/* ------------------------------------------------------------------ */

struct raw_xfer {
    CURL *easy;
    bool stream; /* raw_stream_write is its write callback */
    uint64_t sum; /* streamed: the sum of the bytes read */
    char *buf;
    size_t len, cap;
    double t_start;
    long idx;
};

enum { RAW_ACCEPT_ENCODING = 1, RAW_FRESH_HANDLES = 2 };

/* The encodings nethttp asks for, in its order ("deflate, gzip, br, zstd"
 * as far as the libcurl in use decodes them). */
static const char *raw_encodings(void)
{
    static char list[64];
    if (!list[0]) {
        const char *names[] = {"deflate", "gzip", "br", "zstd"};
        char features[512];
        snprintf(features, sizeof features, " %s ", nethttp_features());
        for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
            char word[16];
            snprintf(word, sizeof word, " %s ", names[i]);
            if (strstr(features, word))
                snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s",
                         list[0] ? ", " : "", names[i]);
        }
    }
    return list;
}

struct raw_client {
    CURLM *multi;
    struct curl_slist *get_headers;
    struct curl_slist *post_headers;
    struct raw_xfer *pool; /* reused easy handles */
    long pool_n;
    /* For https clients, set before the first request: */
    long http_version;   /* CURLOPT_HTTP_VERSION, or 0 (libcurl's default) */
    bool pipewait;       /* CURLOPT_PIPEWAIT: wait to multiplex on one connection */
    const char *ca_file; /* CURLOPT_CAINFO (and no CA directory), or NULL */
};

static size_t raw_write(char *data, size_t size, size_t nmemb, void *userdata)
{
    struct raw_xfer *x = userdata;
    size_t n = size * nmemb;
    if (x->len + n + 1 > x->cap) {
        size_t cap = x->cap ? x->cap : 1024;
        while (cap < x->len + n + 1)
            cap *= 2;
        char *buf = realloc(x->buf, cap);
        if (!buf)
            return 0;
        x->buf = buf;
        x->cap = cap;
    }
    memcpy(x->buf + x->len, data, n);
    x->len += n;
    return n;
}

/* The work both sides do on a streamed body: read every byte once. */
static uint64_t touch_bytes(const char *data, size_t n)
{
    const unsigned char *p = (const unsigned char *)data;
    uint64_t sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += p[i];
    return sum;
}

/* The write callback of streamed jobs: counts and reads the bytes, keeps none. */
static size_t raw_stream_write(char *data, size_t size, size_t nmemb, void *userdata)
{
    struct raw_xfer *x = userdata;
    size_t n = size * nmemb;
    x->sum += touch_bytes(data, n);
    x->len += n;
    return n;
}

static struct curl_slist *append_header(struct curl_slist *list, const char *h)
{
    struct curl_slist *l = curl_slist_append(list, h);
    if (!l)
        die("curl_slist_append failed");
    return l;
}

static void raw_client_init(struct raw_client *c)
{
    memset(c, 0, sizeof *c);
    c->multi = curl_multi_init();
    if (!c->multi)
        die("curl_multi_init failed");
    /* The headers nethttp sends by default: its User-Agent, no Expect, and a
     * form Content-Type when there is a body. */
    char ua[64];
    snprintf(ua, sizeof ua, "User-Agent: nethttp/%s", nethttp_version());
    c->get_headers = append_header(NULL, ua);
    c->post_headers = append_header(NULL, ua);
    if (cfg.raw_as_nethttp & RAW_ACCEPT_ENCODING) {
        char ae[96];
        snprintf(ae, sizeof ae, "Accept-Encoding: %s", raw_encodings());
        c->get_headers = append_header(c->get_headers, ae);
        c->post_headers = append_header(c->post_headers, ae);
    }
    c->get_headers = append_header(c->get_headers, "Expect:");
    c->post_headers = append_header(c->post_headers,
                                    "Content-Type: application/x-www-form-urlencoded");
    c->post_headers = append_header(c->post_headers, "Expect:");
}

/* The options nethttp sets on every easy handle (see src/transfer.rs). */
static void raw_easy_init(const struct raw_client *c, struct raw_xfer *x)
{
    memset(x, 0, sizeof *x);
    x->easy = curl_easy_init();
    if (!x->easy)
        die("curl_easy_init failed");
    curl_easy_setopt(x->easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(x->easy, CURLOPT_WRITEFUNCTION, raw_write);
    curl_easy_setopt(x->easy, CURLOPT_WRITEDATA, x);
    curl_easy_setopt(x->easy, CURLOPT_PRIVATE, x);
    /* The bit masks, as nethttp sets them (deprecated, still honoured, and
     * cheaper than the names libcurl parses on every handle). */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
    curl_easy_setopt(x->easy, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
    curl_easy_setopt(x->easy, CURLOPT_REDIR_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#pragma GCC diagnostic pop
    curl_easy_setopt(x->easy, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(x->easy, CURLOPT_CONNECTTIMEOUT_MS, CONNECT_TIMEOUT_MS);
    curl_easy_setopt(x->easy, CURLOPT_TIMEOUT_MS, REQUEST_TIMEOUT_MS);
    if (c->http_version)
        curl_easy_setopt(x->easy, CURLOPT_HTTP_VERSION, c->http_version);
    if (c->pipewait)
        curl_easy_setopt(x->easy, CURLOPT_PIPEWAIT, 1L);
    if (c->ca_file) {
        curl_easy_setopt(x->easy, CURLOPT_CAINFO, c->ca_file);
        curl_easy_setopt(x->easy, CURLOPT_CAPATH, (char *)NULL);
    }
    if (cfg.raw_as_nethttp & RAW_ACCEPT_ENCODING)
        curl_easy_setopt(x->easy, CURLOPT_ACCEPT_ENCODING, raw_encodings());
}

static void raw_client_reserve(struct raw_client *c, long n)
{
    if (n <= c->pool_n)
        return;
    /* Existing handles are never moved: their WRITEDATA/PRIVATE point at them. */
    if (c->pool_n == 0) {
        c->pool = xmalloc((size_t)n * sizeof *c->pool);
    } else {
        struct raw_xfer *p = xmalloc((size_t)n * sizeof *p);
        memcpy(p, c->pool, (size_t)c->pool_n * sizeof *p);
        for (long i = 0; i < c->pool_n; i++) {
            curl_easy_setopt(p[i].easy, CURLOPT_WRITEDATA, &p[i]);
            curl_easy_setopt(p[i].easy, CURLOPT_PRIVATE, &p[i]);
        }
        free(c->pool);
        c->pool = p;
    }
    for (long i = c->pool_n; i < n; i++)
        raw_easy_init(c, &c->pool[i]);
    c->pool_n = n;
}

static void raw_client_free(struct raw_client *c)
{
    for (long i = 0; i < c->pool_n; i++) {
        curl_easy_cleanup(c->pool[i].easy);
        free(c->pool[i].buf);
    }
    free(c->pool);
    curl_multi_cleanup(c->multi);
    curl_slist_free_all(c->get_headers);
    curl_slist_free_all(c->post_headers);
    memset(c, 0, sizeof *c);
}

/* Sets up request number `idx` on a (re)used easy handle and adds it. */
static void raw_start(struct raw_client *c, struct raw_xfer *x, const struct job *j, long idx)
{
    x->t_start = now_s();
    if ((cfg.raw_as_nethttp & RAW_FRESH_HANDLES) && x->easy) {
        /* A new handle in place of the last one; the body buffer stays. */
        char *buf = x->buf;
        size_t cap = x->cap;
        curl_easy_cleanup(x->easy);
        raw_easy_init(c, x);
        x->buf = buf;
        x->cap = cap;
    }
    x->idx = idx;
    x->len = 0;
    x->sum = 0;
    if (x->stream != j->stream) {
        x->stream = j->stream;
        curl_easy_setopt(x->easy, CURLOPT_WRITEFUNCTION, j->stream ? raw_stream_write : raw_write);
    }
    curl_easy_setopt(x->easy, CURLOPT_URL, j->url);
    if (j->body) {
        curl_easy_setopt(x->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)j->body_len);
        curl_easy_setopt(x->easy, CURLOPT_POSTFIELDS, j->body);
        curl_easy_setopt(x->easy, CURLOPT_HTTPHEADER, c->post_headers);
    } else {
        curl_easy_setopt(x->easy, CURLOPT_HTTPGET, 1L);
        curl_easy_setopt(x->easy, CURLOPT_HTTPHEADER, c->get_headers);
    }
    CURLMcode rc = curl_multi_add_handle(c->multi, x->easy);
    if (rc != CURLM_OK)
        die("curl_multi_add_handle: %s", curl_multi_strerror(rc));
}

static long rss_now_kb(void)
{
    return proc_status_kb("VmRSS");
}

static void raw_run(struct raw_client *c, const struct job *j, struct result *res)
{
    memset(res, 0, sizeof *res);
    long conc = j->conc < j->n ? j->conc : j->n;
    raw_client_reserve(c, conc);
    double cpu0 = cpu_s();
    double t0 = now_s();
    long issued = 0, done = 0;
    for (; issued < conc; issued++)
        raw_start(c, &c->pool[issued], j, issued);
    while (done < j->n) {
        int running;
        curl_multi_perform(c->multi, &running);
        int added = 0;
        CURLMsg *msg;
        int queued;
        while ((msg = curl_multi_info_read(c->multi, &queued))) {
            if (msg->msg != CURLMSG_DONE)
                continue;
            CURL *easy = msg->easy_handle;
            CURLcode result = msg->data.result;
            double t = now_s();
            struct raw_xfer *x;
            long status = 0;
            x = NULL;
            curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&x);
            if (!x) {
                /* An idle transfer of the idle workload ended early: it is
                 * not one of this run's; idle_stop() removes it. */
                res->failures++;
                report_failure("raw libcurl", "an idle transfer ended early");
                continue;
            }
            curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
            curl_multi_remove_handle(c->multi, easy);
            if (j->lat_us)
                j->lat_us[x->idx] = (t - x->t_start) * 1e6;
            if (result != CURLE_OK) {
                res->failures++;
                report_failure("raw libcurl", curl_easy_strerror(result));
            } else if (status != 200 || (j->expect_len >= 0 && (long)x->len != j->expect_len)) {
                res->failures++;
                report_failure("raw libcurl", "unexpected status or body length");
            } else if (j->want_version) {
                long v = 0;
                curl_easy_getinfo(easy, CURLINFO_HTTP_VERSION, &v);
                int spoken = v == CURL_HTTP_VERSION_2_0   ? 20
                             : v == CURL_HTTP_VERSION_1_1 ? 11
                             : v == CURL_HTTP_VERSION_1_0 ? 10
                                                          : (int)v;
                if (spoken == j->want_version) {
                    res->version_ok++;
                } else {
                    res->failures++;
                    report_failure("raw libcurl", "the response came in another HTTP version");
                }
            }
            if (done++ == 0)
                res->first_done = t - t0;
            if (j->checkpoint && done % j->checkpoint == 0)
                j->rss_kb[done / j->checkpoint - 1] = rss_now_kb();
            if (issued < j->n) {
                raw_start(c, x, j, issued++);
                added++;
            }
        }
        if (done < j->n && !added)
            curl_multi_poll(c->multi, NULL, 0, 100, NULL);
    }
    res->secs = now_s() - t0;
    res->cpu = cpu_s() - cpu0;
}

/* ------------------------------------------------------------------ */
/* The nethttp side                                                     */
/* ------------------------------------------------------------------ */

struct nh_run;

struct nh_slot {
    struct nh_run *run;
    double t_start;
    long idx;
};

struct nh_run {
    const struct job *job;
    const struct nethttp_options *options;
    struct nethttp_client *client; /* NULL: the default client */
    bool chain; /* the callback makes the next request itself */
    atomic_long issued;
    atomic_long done;
    atomic_long failures;
    atomic_long version_ok; /* responses with the job's want_version */
    size_t streamed;        /* streamed jobs (one request at a time): bytes so far */
    uint64_t sum;           /* streamed jobs: the sum of those bytes */
    double t_first;
    double t_end;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool finished;
    sem_t one_done; /* application-thread mode: posted by every callback */
};

/* Counts a completed request. Touches nothing of `r` after the last one is
 * signalled in chained mode: the waiting thread may free `r` at once. */
static void nh_complete_one(struct nh_run *r, double t)
{
    bool chain = r->chain;
    long d = atomic_fetch_add(&r->done, 1) + 1;
    const struct job *j = r->job;
    if (d == 1)
        r->t_first = t;
    if (j->checkpoint && d % j->checkpoint == 0)
        j->rss_kb[d / j->checkpoint - 1] = rss_now_kb();
    if (d == j->n) {
        pthread_mutex_lock(&r->mu);
        r->t_end = t;
        r->finished = true;
        pthread_cond_broadcast(&r->cv);
        pthread_mutex_unlock(&r->mu);
    }
    if (!chain)
        sem_post(&r->one_done);
}

static int nh_callback(const char *body, size_t body_len, int status,
                       const struct nethttp_response *response, void *userdata);

/* Makes the next request of the run with `slot`, if any is left. */
static void nh_issue(struct nh_slot *slot)
{
    struct nh_run *r = slot->run;
    const struct job *j = r->job;
    for (;;) {
        long idx = atomic_fetch_add(&r->issued, 1);
        if (idx >= j->n)
            return;
        slot->idx = idx;
        slot->t_start = now_s();
        if (r->client ? nethttp_client_request(r->client, j->url, r->options, nh_callback, slot)
                      : nethttp_request(j->url, r->options, nh_callback, slot))
            return;
        atomic_fetch_add(&r->failures, 1);
        report_failure("nethttp", nethttp_last_error());
        nh_complete_one(r, now_s());
        if (!r->chain)
            return;
    }
}

static int nh_callback(const char *body, size_t body_len, int status,
                       const struct nethttp_response *response, void *userdata)
{
    double t = now_s();
    (void)body;
    struct nh_slot *slot = userdata;
    struct nh_run *r = slot->run;
    const struct job *j = r->job;
    if (j->lat_us)
        j->lat_us[slot->idx] = (t - slot->t_start) * 1e6;
    /* A streamed body came through nh_data; the callback gets none. */
    long got = j->stream ? (body_len == 0 ? (long)r->streamed : -1) : (long)body_len;
    r->streamed = 0;
    if (status != 200 || (j->expect_len >= 0 && got != j->expect_len)) {
        atomic_fetch_add(&r->failures, 1);
        const char *detail = nethttp_response_error_detail(response);
        report_failure("nethttp", detail && *detail ? detail : "unexpected status or body length");
    } else if (j->want_version) {
        if (nethttp_response_http_version(response) == j->want_version) {
            atomic_fetch_add(&r->version_ok, 1);
        } else {
            atomic_fetch_add(&r->failures, 1);
            report_failure("nethttp", "the response came in another HTTP version");
        }
    }
    bool more = r->chain && atomic_load(&r->issued) < j->n;
    nh_complete_one(r, t);
    if (more)
        nh_issue(slot);
    return 0;
}

/* Streamed jobs: every chunk of the body, on the engine thread (one request
 * of the run at a time, so the run's counters are the request's). */
static int nh_data(const char *data, size_t len, const struct nethttp_response *head,
                   void *userdata)
{
    (void)head;
    struct nh_run *r = userdata;
    r->sum += touch_bytes(data, len);
    r->streamed += len;
    return 0;
}

static struct nethttp_options *nh_options(const struct job *j)
{
    struct nethttp_options *o = nethttp_options_new();
    if (!o)
        die("nethttp_options_new failed");
    nethttp_options_set_timeout_ms(o, (uint64_t)REQUEST_TIMEOUT_MS);
    nethttp_options_set_connect_timeout_ms(o, (uint64_t)CONNECT_TIMEOUT_MS);
    if (j->body && nethttp_options_set_body(o, j->body, j->body_len) != NETHTTP_RESULT_OK)
        die("nethttp_options_set_body failed");
    if (j->nh_http_version &&
        nethttp_options_set_http_version(o, j->nh_http_version) != NETHTTP_RESULT_OK)
        die("nethttp_options_set_http_version(%d) failed", j->nh_http_version);
    if (j->ca_file && nethttp_options_set_ca_file(o, j->ca_file) != NETHTTP_RESULT_OK)
        die("nethttp_options_set_ca_file failed");
    return o;
}

static void nh_run_init(struct nh_run *r, const struct job *j, const struct nethttp_options *o,
                        bool chain)
{
    memset(r, 0, sizeof *r);
    r->job = j;
    r->options = o;
    r->chain = chain;
    atomic_init(&r->issued, 0);
    atomic_init(&r->done, 0);
    atomic_init(&r->failures, 0);
    atomic_init(&r->version_ok, 0);
    pthread_mutex_init(&r->mu, NULL);
    pthread_cond_init(&r->cv, NULL);
    sem_init(&r->one_done, 0, 0);
}

static void nh_run_destroy(struct nh_run *r)
{
    pthread_mutex_destroy(&r->mu);
    pthread_cond_destroy(&r->cv);
    sem_destroy(&r->one_done);
}

static void nh_wait(struct nh_run *r)
{
    pthread_mutex_lock(&r->mu);
    while (!r->finished)
        pthread_cond_wait(&r->cv, &r->mu);
    pthread_mutex_unlock(&r->mu);
}

/* `conc` requests in flight; each callback makes the next request. */
/* The client requests of the next chained run go to (NULL: the default). */
static struct nethttp_client *chained_client;

static void nh_run_chained(const struct job *j, struct result *res)
{
    struct nethttp_options *o = nh_options(j);
    struct nh_run r;
    nh_run_init(&r, j, o, true);
    r.client = chained_client;
    long conc = j->conc < j->n ? j->conc : j->n;
    if (j->stream) {
        if (conc != 1)
            die("streamed jobs run one request at a time");
        if (nethttp_options_set_data_callback(o, nh_data, &r) != NETHTTP_RESULT_OK)
            die("nethttp_options_set_data_callback failed");
    }
    struct nh_slot *slots = xmalloc((size_t)conc * sizeof *slots);
    for (long i = 0; i < conc; i++)
        slots[i].run = &r;
    double cpu0 = cpu_s();
    double t0 = now_s();
    for (long i = 0; i < conc; i++)
        nh_issue(&slots[i]);
    nh_wait(&r);
    res->cpu = cpu_s() - cpu0;
    res->secs = r.t_end - t0;
    res->first_done = r.t_first - t0;
    res->failures = atomic_load(&r.failures);
    res->version_ok = atomic_load(&r.version_ok);
    free(slots);
    nh_run_destroy(&r);
    nethttp_options_free(o);
}

/* Dispatch mode: `conc` requests in flight on a client whose callbacks run
 * on this thread, in its own poll() loop; each callback makes the next
 * request, as in nh_run_chained. */
static struct nethttp_client *dispatch_client; /* kept across rounds: warm connections */

/* A client in dispatch mode or driven by epoll, for the workloads that need one. */
static struct nethttp_client *bench_client(int dispatch, int epoll)
{
    struct nethttp_client_config *config = nethttp_client_config_new();
    if (!config || nethttp_client_config_set_dispatch(config, dispatch) != NETHTTP_RESULT_OK ||
        nethttp_client_config_set_epoll(config, epoll) != NETHTTP_RESULT_OK)
        die("nethttp_client_config failed");
    struct nethttp_client *client = nethttp_client_new(config);
    nethttp_client_config_free(config);
    if (!client)
        die("nethttp_client_new failed: %s", nethttp_last_error());
    return client;
}

static void nh_run_dispatch(const struct job *j, struct result *res)
{
    struct nethttp_options *o = nh_options(j);
    if (!dispatch_client)
        dispatch_client = bench_client(1, 0);
    struct nethttp_client *client = dispatch_client;
    struct nh_run r;
    nh_run_init(&r, j, o, true);
    r.client = client;
    long conc = j->conc < j->n ? j->conc : j->n;
    struct nh_slot *slots = xmalloc((size_t)conc * sizeof *slots);
    for (long i = 0; i < conc; i++)
        slots[i].run = &r;
    struct pollfd pfd = {.fd = nethttp_client_fd(client), .events = POLLIN};
    double cpu0 = cpu_s();
    double t0 = now_s();
    for (long i = 0; i < conc; i++)
        nh_issue(&slots[i]);
    while (atomic_load(&r.done) < j->n) {
        if (poll(&pfd, 1, 1000) < 0 && errno != EINTR)
            die("poll: %s", strerror(errno));
        if (nethttp_client_dispatch(client, 0) < 0)
            die("nethttp_client_dispatch: %s", nethttp_last_error());
    }
    res->cpu = cpu_s() - cpu0;
    res->secs = r.t_end - t0;
    res->first_done = r.t_first - t0;
    res->failures = atomic_load(&r.failures);
    free(slots);
    nh_run_destroy(&r);
    nethttp_options_free(o);
}

/* One request at a time, each made by the application (main) thread after the
 * previous callback signalled it: the request crosses into the engine thread. */
static void nh_run_app_thread(const struct job *j, struct result *res)
{
    struct nethttp_options *o = nh_options(j);
    struct nh_run r;
    nh_run_init(&r, j, o, false);
    struct nh_slot slot = {.run = &r};
    double cpu0 = cpu_s();
    double t0 = now_s();
    for (long i = 0; i < j->n; i++) {
        nh_issue(&slot);
        while (sem_wait(&r.one_done) != 0 && errno == EINTR) {
        }
    }
    nh_wait(&r);
    res->cpu = cpu_s() - cpu0;
    res->secs = r.t_end - t0;
    res->failures = atomic_load(&r.failures);
    nh_run_destroy(&r);
    nethttp_options_free(o);
}

/* ------------------------------------------------------------------ */
/* nginx's connection counter                                          */
/* ------------------------------------------------------------------ */

static CURL *status_easy;
static char status_buf[1024];
static size_t status_len;

static size_t status_write(char *data, size_t size, size_t nmemb, void *userdata)
{
    (void)userdata;
    size_t n = size * nmemb;
    size_t room = sizeof status_buf - 1 - status_len;
    memcpy(status_buf + status_len, data, n < room ? n : room);
    status_len += n < room ? n : room;
    return n;
}

/* Connections nginx has accepted so far (stub_status), not counting the ones
 * this probe opened itself; -1 without a status URL. */
static long nginx_accepts(void)
{
    static long own_connects;
    if (!cfg.status_url)
        return -1;
    if (!status_easy) {
        status_easy = curl_easy_init();
        curl_easy_setopt(status_easy, CURLOPT_URL, cfg.status_url);
        curl_easy_setopt(status_easy, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(status_easy, CURLOPT_WRITEFUNCTION, status_write);
        curl_easy_setopt(status_easy, CURLOPT_TIMEOUT_MS, 10000L);
    }
    status_len = 0;
    if (curl_easy_perform(status_easy) != CURLE_OK)
        return -1;
    long connects = 0;
    curl_easy_getinfo(status_easy, CURLINFO_NUM_CONNECTS, &connects);
    own_connects += connects;
    status_buf[status_len] = 0;
    const char *p = strstr(status_buf, "requests");
    if (!p)
        return -1;
    return strtol(p + strlen("requests"), NULL, 10) - own_connects;
}

/* ------------------------------------------------------------------ */
/* Request workloads in this process                                   */
/* ------------------------------------------------------------------ */

struct side_stats {
    double rps[64];
    double cpu_us[64];
    double p50[64];
    double p99[64];
    double conns[64];
    double minflt[64]; /* minor page faults per request */
    long failures;
    long version_ok;
    int n;
};

static void record(struct side_stats *s, const struct job *j, const struct result *res,
                   long conns)
{
    int i = s->n++;
    s->rps[i] = (double)j->n / res->secs;
    s->cpu_us[i] = res->cpu / (double)j->n * 1e6;
    s->p50[i] = j->lat_us ? quantile(j->lat_us, (size_t)j->n, 0.50) : NAN;
    s->p99[i] = j->lat_us ? quantile(j->lat_us, (size_t)j->n, 0.99) : NAN;
    s->conns[i] = (double)conns;
    s->minflt[i] = (double)res->minflt / (double)j->n;
    s->failures += res->failures;
    s->version_ok += res->version_ok;
    if (res->failures)
        any_failure = true;
}

enum nh_mode { NH_CHAINED, NH_APP_THREAD, NH_DISPATCH };

/* Runs one side once; returns the connections nginx accepted meanwhile. */
static long minflt_now(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_minflt;
}

static long run_side(bool nethttp, enum nh_mode mode, struct raw_client *raw,
                     const struct job *j, struct result *res)
{
    long a0 = nginx_accepts();
    memset(res, 0, sizeof *res);
    long f0 = minflt_now();
    if (nethttp) {
        if (mode == NH_APP_THREAD)
            nh_run_app_thread(j, res);
        else if (mode == NH_DISPATCH)
            nh_run_dispatch(j, res);
        else
            nh_run_chained(j, res);
    } else {
        raw_run(raw, j, res);
    }
    res->minflt = minflt_now() - f0;
    long a1 = nginx_accepts();
    return a0 < 0 || a1 < 0 ? -1 : a1 - a0;
}

/* Warm-up and `rounds` alternating measured runs of both sides. */
static void compare(const char *label, struct raw_client *raw, struct job *j, enum nh_mode mode,
                    int rounds, struct side_stats *nh, struct side_stats *rw)
{
    memset(nh, 0, sizeof *nh);
    memset(rw, 0, sizeof *rw);
    struct result res;
    struct job warm = *j;
    warm.n = j->n / 10 > j->conc ? j->n / 10 : j->conc;
    warm.lat_us = NULL;
    for (int k = 0; k < 2; k++) {
        if (!(cfg.sides & (k == 0 ? 1 : 2)))
            continue;
        run_side(k == 0, mode, raw, &warm, &res);
        if (res.failures)
            any_failure = true;
    }
    for (int r = 0; r < rounds; r++) {
        for (int k = 0; k < 2; k++) {
            bool nethttp = (r % 2 == 0) == (k == 0);
            if (!(cfg.sides & (nethttp ? 1 : 2)))
                continue;
            CALLGRIND_ZERO_STATS;
            long conns = run_side(nethttp, mode, raw, j, &res);
            CALLGRIND_DUMP_STATS_AT(label);
            record(nethttp ? nh : rw, j, &res, conns);
            if (j->n == 1 && j->expect_len > 0) /* a download */
                fprintf(stderr, "  %-28s round %d %-11s %9.0f MB/s  %7.1f ms CPU, %ld minor faults%s\n",
                        label, r + 1, nethttp ? "nethttp" : "raw libcurl",
                        (double)j->expect_len / 1e6 / res.secs, res.cpu * 1e3, res.minflt,
                        res.failures ? "  FAILURES" : "");
            else
                fprintf(stderr, "  %-28s round %d %-11s %9.0f req/s %7.1f us CPU/req%s\n", label,
                        r + 1, nethttp ? "nethttp" : "raw libcurl", (double)j->n / res.secs,
                        res.cpu / (double)j->n * 1e6, res.failures ? "  FAILURES" : "");
        }
    }
}

static void fill_conns(struct row *row, const struct side_stats *nh, const struct side_stats *rw)
{
    if (cfg.status_url)
        SET(row->conns, "%.0f / %.0f", median(nh->conns, (size_t)nh->n),
            median(rw->conns, (size_t)rw->n));
    else
        SET(row->conns, "n/a");
}

static void failures_row(const char *workload, long nh_fail, long rw_fail)
{
    struct row *row = add_row(workload, "failed requests");
    SET(row->nethttp, "%ld", nh_fail);
    SET(row->raw, "%ld", rw_fail);
    SET(row->target, "0");
    SET(row->verdict, "%s", verdict(nh_fail == 0));
}

/* Fills a row with both sides' medians and their paired comparison. */
static double compare_cells(struct row *row, const double *a, const double *b, int n, bool diff,
                            const char *value_fmt)
{
    double lo, hi;
    double m = paired(a, b, (size_t)n, diff, &lo, &hi);
    SET(row->nethttp, value_fmt, median(a, (size_t)n));
    SET(row->raw, value_fmt, median(b, (size_t)n));
    if (diff)
        SET(row->compare, "%+.1f µs (%+.0f…%+.0f)", m, lo, hi);
    else if (n > 1)
        SET(row->compare, "%.3f (%.2f…%.2f)", m, lo, hi);
    else
        SET(row->compare, "%.3f", m);
    return m;
}

static void latency_rows(const char *workload, const struct side_stats *nh,
                         const struct side_stats *rw, bool with_target)
{
    int n = nh->n < rw->n ? nh->n : rw->n;
    struct row *row = add_row(workload, "latency p50 (µs)");
    compare_cells(row, nh->p50, rw->p50, n, true, "%.1f");
    row = add_row(workload, "latency p99 (µs)");
    double d99 = compare_cells(row, nh->p99, rw->p99, n, true, "%.1f");
    if (with_target) {
        SET(row->target, "≤ +20 µs");
        SET(row->verdict, "%s", verdict(d99 <= 20.0));
    }
}

static void throughput_rows(const char *workload, const struct side_stats *nh,
                            const struct side_stats *rw, double target)
{
    int n = nh->n < rw->n ? nh->n : rw->n;
    struct row *row = add_row(workload, "requests/s");
    double ratio = compare_cells(row, nh->rps, rw->rps, n, false, "%.0f");
    if (target > 0) {
        SET(row->target, "ratio ≥ %.2f", target);
        SET(row->verdict, "%s", verdict(ratio >= target));
    }
    fill_conns(row, nh, rw);
    row = add_row(workload, "CPU µs/request (user+sys)");
    compare_cells(row, nh->cpu_us, rw->cpu_us, n, false, "%.1f");
}

static void bench_throughput(struct raw_client *raw)
{
    double *lat = xmalloc((size_t)cfg.requests * sizeof *lat);
    struct side_stats nh, rw;
    long nh_fail = 0, rw_fail = 0;
    for (int i = 0; i < cfg.nconc; i++) {
        int c = cfg.conc[i];
        struct job j = {.url = cfg.small_url,
                        .n = cfg.requests,
                        .conc = c,
                        .expect_len = -1,
                        .lat_us = lat};
        char label[64];
        snprintf(label, sizeof label, "GET c=%d", c);
        compare(label, raw, &j, NH_CHAINED, cfg.rounds, &nh, &rw);
        char workload[64];
        snprintf(workload, sizeof workload, "GET small, c=%d (N=%ld)", c, cfg.requests);
        throughput_rows(workload, &nh, &rw, c >= 1000 ? 1.10 : 1.00);
        nh_fail += nh.failures;
        rw_fail += rw.failures;
        if (data_file) {
            double lo, hi;
            int n = nh.n < rw.n ? nh.n : rw.n;
            fprintf(data_file, "throughput\t%d\t%.1f\t%.1f\t%.4f\n", c,
                    median(nh.rps, (size_t)nh.n), median(rw.rps, (size_t)rw.n),
                    paired(nh.rps, rw.rps, (size_t)n, false, &lo, &hi));
        }
        if ((cfg.workloads & W_LATENCY) && (c == 1 || c == 50)) {
            snprintf(workload, sizeof workload, "Latency GET c=%d", c);
            latency_rows(workload, &nh, &rw, c == 1);
        }
    }
    failures_row("GET small, all levels", nh_fail, rw_fail);
    free(lat);
}

/* The raw side is the same hand-written loop: in dispatch mode the
 * application's thread runs the callbacks, as it does in a raw loop. */
static void bench_dispatch(struct raw_client *raw)
{
    struct side_stats nh, rw;
    struct job j = {.url = cfg.small_url, .n = cfg.requests, .conc = 50, .expect_len = -1};
    compare("GET c=50, dispatch mode", raw, &j, NH_DISPATCH, cfg.rounds, &nh, &rw);
    char workload[80];
    snprintf(workload, sizeof workload, "GET small, c=50, dispatch mode (N=%ld)", cfg.requests);
    /* No target: each completion crosses from the engine thread to the
     * application's, which a single-threaded raw loop never pays. */
    throughput_rows(workload, &nh, &rw, 0);
    failures_row(workload, nh.failures, rw.failures);
}

/* Idle transfers (long polls, event streams): `idle` requests the server
 * holds for minutes sit beside c=10 active GETs; only the active ones are
 * timed. A perform/poll loop looks at every socket on each pass; an engine
 * driven by curl_multi_socket_action and epoll only at the ready ones. */
static int idle_callback(const char *body, size_t body_len, int status,
                         const struct nethttp_response *response, void *userdata)
{
    (void)body, (void)body_len, (void)status, (void)response, (void)userdata;
    return 0;
}

static size_t idle_write(char *data, size_t size, size_t nmemb, void *userdata)
{
    (void)data, (void)userdata;
    return size * nmemb;
}

/* The nethttp side runs on a client whose engine waits with epoll
 * (nethttp_client_config_set_epoll), the setting made for this load. */
static struct nethttp_client *idle_client;

/* Starts `n` idle transfers on one side; `handles` gets what it needs to
 * stop them. */
static void idle_start(bool nethttp, struct raw_client *raw, int n, void **handles)
{
    if (nethttp && !idle_client)
        idle_client = bench_client(0, 1);
    for (int i = 0; i < n; i++) {
        if (nethttp) {
            handles[i] = nethttp_client_request(idle_client, cfg.idle_url, NULL, idle_callback, NULL);
            if (!handles[i])
                die("idle request: %s", nethttp_last_error());
        } else {
            CURL *easy = curl_easy_init();
            curl_easy_setopt(easy, CURLOPT_URL, cfg.idle_url);
            curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
            curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, idle_write);
            curl_multi_add_handle(raw->multi, easy);
            handles[i] = easy;
        }
    }
    /* Let them connect and send before the timed part. */
    double until = now_s() + 1.0 + n / 5000.0;
    while (now_s() < until) {
        if (!nethttp) {
            int running;
            curl_multi_perform(raw->multi, &running);
            curl_multi_poll(raw->multi, NULL, 0, 50, NULL);
        } else {
            usleep(50000);
        }
    }
}

static void idle_stop(bool nethttp, struct raw_client *raw, int n, void **handles)
{
    for (int i = 0; i < n; i++) {
        if (nethttp) {
            nethttp_destroy_request(handles[i]);
        } else {
            curl_multi_remove_handle(raw->multi, handles[i]);
            curl_easy_cleanup(handles[i]);
        }
    }
}

static void bench_idle(struct raw_client *raw)
{
    if (!cfg.idle_url) {
        fprintf(stderr, "idle: skipped (no --idle-url: nginx without its echo module)\n");
        return;
    }
    for (int l = 0; l < cfg.nidle; l++) {
        int n = cfg.idle[l];
        /* Each side's idle transfers are started once for all rounds of the
         * level: nginx does not notice a client giving up on /idle and keeps
         * the connection until its hold ends, so starting a fresh set every
         * round would run it out of connections at 5,000. The side not being
         * timed leaves its set untouched (no CPU). */
        void **nh_handles = xmalloc((size_t)n * sizeof *nh_handles);
        void **raw_handles = xmalloc((size_t)n * sizeof *raw_handles);
        struct side_stats nh, rw;
        memset(&nh, 0, sizeof nh);
        memset(&rw, 0, sizeof rw);
        long requests = cfg.requests / 4 > 100 ? cfg.requests / 4 : 100;
        struct job j = {.url = cfg.small_url, .n = requests, .conc = 10, .expect_len = -1};
        struct result res;
        if (cfg.sides & 1)
            idle_start(true, raw, n, nh_handles);
        if (cfg.sides & 2)
            idle_start(false, raw, n, raw_handles);
        for (int r = 0; r < cfg.rounds; r++) {
            for (int k = 0; k < 2; k++) {
                bool nethttp = (r % 2 == 0) == (k == 0);
                if (!(cfg.sides & (nethttp ? 1 : 2)))
                    continue;
                chained_client = idle_client;
                run_side(nethttp, NH_CHAINED, raw, &j, &res);
                chained_client = NULL;
                record(nethttp ? &nh : &rw, &j, &res, -1);
                fprintf(stderr, "  idle %-5d + c=10           round %d %-11s %9.0f req/s %7.1f us CPU/req%s\n", n,
                        r + 1, nethttp ? "nethttp" : "raw libcurl", (double)j.n / res.secs,
                        res.cpu / (double)j.n * 1e6, res.failures ? "  FAILURES" : "");
            }
        }
        if (cfg.sides & 1)
            idle_stop(true, raw, n, nh_handles);
        if (cfg.sides & 2)
            idle_stop(false, raw, n, raw_handles);
        char workload[96];
        snprintf(workload, sizeof workload, "GET small, c=10, beside %d idle transfers, epoll client (N=%ld)", n,
                 requests);
        throughput_rows(workload, &nh, &rw, 4.0);
        failures_row(workload, nh.failures, rw.failures);
        free(nh_handles);
        free(raw_handles);
    }
}

static void bench_app_thread(struct raw_client *raw)
{
    double *lat = xmalloc((size_t)cfg.app_requests * sizeof *lat);
    struct side_stats nh, rw;
    struct job j = {.url = cfg.small_url,
                    .n = cfg.app_requests,
                    .conc = 1,
                    .expect_len = -1,
                    .lat_us = lat};
    compare("GET c=1, app thread", raw, &j, NH_APP_THREAD, cfg.rounds, &nh, &rw);
    char workload[80];
    snprintf(workload, sizeof workload, "Latency GET c=1, app thread submits (N=%ld)",
             cfg.app_requests);
    latency_rows(workload, &nh, &rw, true);
    struct row *row = add_row(workload, "requests/s");
    compare_cells(row, nh.rps, rw.rps, nh.n < rw.n ? nh.n : rw.n, false, "%.0f");
    fill_conns(row, &nh, &rw);
    if (nh.failures || rw.failures)
        failures_row(workload, nh.failures, rw.failures);
    free(lat);
}

static void bench_post(struct raw_client *raw)
{
    char *body = xmalloc(cfg.post_size);
    for (size_t i = 0; i < cfg.post_size; i++)
        body[i] = (char)('a' + i % 26);
    struct side_stats nh, rw;
    struct job j = {.url = cfg.post_url,
                    .body = body,
                    .body_len = cfg.post_size,
                    .n = cfg.post_requests,
                    .conc = cfg.post_conc,
                    .expect_len = -1};
    compare("POST", raw, &j, NH_CHAINED, cfg.rounds, &nh, &rw);
    char workload[80];
    char sz[32];
    snprintf(workload, sizeof workload, "POST %s body, c=%d (N=%ld)",
             size_label(cfg.post_size, sz, sizeof sz), cfg.post_conc, cfg.post_requests);
    throughput_rows(workload, &nh, &rw, 1.00);
    failures_row(workload, nh.failures, rw.failures);
    free(body);
}

/* One large GET at a time. Buffered: nethttp hands the whole body to the
 * callback, the raw loop appends it to a buffer it keeps across requests.
 * Streamed: nethttp's data callback and the raw loop's write callback both
 * read every byte (touch_bytes) and keep none. */
static void bench_download(struct raw_client *raw, bool stream)
{
    struct side_stats nh, rw;
    struct job j = {.url = cfg.big_url,
                    .stream = stream,
                    .n = 1,
                    .conc = 1,
                    .expect_len = (long)cfg.download_size};
    compare(stream ? "download, streamed" : "download", raw, &j, NH_CHAINED,
            cfg.download_rounds, &nh, &rw);
    char workload[96], sz[32];
    snprintf(workload, sizeof workload, "Download %s, c=1%s",
             size_label(cfg.download_size, sz, sizeof sz),
             stream ? ", streamed (data callback vs write callback)" : "");
    double mb = (double)cfg.download_size / 1e6;
    for (int i = 0; i < nh.n; i++)
        nh.rps[i] *= mb;
    for (int i = 0; i < rw.n; i++)
        rw.rps[i] *= mb;
    int n = nh.n < rw.n ? nh.n : rw.n;
    struct row *row = add_row(workload, "MB/s");
    double ratio = compare_cells(row, nh.rps, rw.rps, n, false, "%.0f");
    /* Buffered: nethttp hands over one contiguous body, which the raw
     * loop's write callback does not build; streamed: the same work. */
    double target = stream ? 1.00 : 0.95;
    SET(row->target, "ratio ≥ %.2f", target);
    SET(row->verdict, "%s", verdict(nh.failures == 0 && ratio >= target));
    fill_conns(row, &nh, &rw);
    row = add_row(workload, "minor page faults/download");
    SET(row->nethttp, "%.0f", median(nh.minflt, (size_t)nh.n));
    SET(row->raw, "%.0f", median(rw.minflt, (size_t)rw.n));
    fprintf(stderr, "  %s: minor page faults/download %s (nethttp) vs %s (raw libcurl)\n",
            stream ? "streamed" : "buffered", row->nethttp, row->raw);
    if (stream || nh.failures || rw.failures)
        failures_row(workload, nh.failures, rw.failures);
}

/* HTTPS GETs of the small body at c=50 on the TLS server: HTTP/2 (nethttp's
 * default, negotiated through ALPN, concurrent requests multiplexed on one
 * connection; raw libcurl with CURL_HTTP_VERSION_2TLS and PIPEWAIT) and
 * HTTP/1.1 (NETHTTP_HTTP_VERSION_1_1; raw libcurl CURL_HTTP_VERSION_1_1).
 * Every response must come in the version asked for, or it counts as a
 * failed request. Each of the four has its own client (nethttp) or multi
 * handle (raw), so no connection of one version serves the other; the four
 * alternate within every round. */
static void bench_h2(void)
{
    if (!cfg.tls_base || !cfg.ca_file) {
        fprintf(stderr, "h2: skipped (no --tls-base and --ca-file)\n");
        return;
    }
    struct raw_client raw2, raw1;
    raw_client_init(&raw2);
    raw2.http_version = CURL_HTTP_VERSION_2TLS;
    raw2.pipewait = true;
    raw2.ca_file = cfg.ca_file;
    raw_client_init(&raw1);
    raw1.http_version = CURL_HTTP_VERSION_1_1;
    raw1.ca_file = cfg.ca_file;
    struct nethttp_client *nh2 = bench_client(0, 0), *nh1 = bench_client(0, 0);
    struct job j2 = {.url = cfg.tls_small_url,
                     .ca_file = cfg.ca_file,
                     .want_version = 20,
                     .n = cfg.requests,
                     .conc = cfg.tls_conc,
                     .expect_len = -1};
    struct job j1 = j2;
    j1.nh_http_version = NETHTTP_HTTP_VERSION_1_1;
    j1.want_version = 11;
    struct {
        const char *name;
        bool nethttp;
        struct job *job;
        struct raw_client *raw;
        struct nethttp_client *client;
        struct side_stats st;
    } v[4] = {
        {.name = "nethttp", .nethttp = true, .job = &j2, .client = nh2},
        {.name = "raw libcurl", .nethttp = false, .job = &j2, .raw = &raw2},
        {.name = "nethttp", .nethttp = true, .job = &j1, .client = nh1},
        {.name = "raw libcurl", .nethttp = false, .job = &j1, .raw = &raw1},
    };
    struct result res;
    for (int k = 0; k < 4; k++) {
        memset(&v[k].st, 0, sizeof v[k].st);
        if (!(cfg.sides & (v[k].nethttp ? 1 : 2)))
            continue;
        struct job warm = *v[k].job;
        warm.n = warm.n / 10 > warm.conc ? warm.n / 10 : warm.conc;
        chained_client = v[k].client;
        run_side(v[k].nethttp, NH_CHAINED, v[k].raw, &warm, &res);
        chained_client = NULL;
        if (res.failures)
            any_failure = true;
    }
    for (int r = 0; r < cfg.rounds; r++) {
        for (int i = 0; i < 4; i++) {
            int k = r % 2 == 0 ? i : 3 - i;
            if (!(cfg.sides & (v[k].nethttp ? 1 : 2)))
                continue;
            chained_client = v[k].client;
            long conns = run_side(v[k].nethttp, NH_CHAINED, v[k].raw, v[k].job, &res);
            chained_client = NULL;
            record(&v[k].st, v[k].job, &res, conns);
            fprintf(stderr, "  HTTPS GET c=%d %-8s    round %d %-11s %9.0f req/s %7.1f us CPU/req%s\n",
                    cfg.tls_conc, k < 2 ? "HTTP/2" : "HTTP/1.1", r + 1, v[k].name,
                    (double)v[k].job->n / res.secs, res.cpu / (double)v[k].job->n * 1e6,
                    res.failures ? "  FAILURES" : "");
        }
    }
    char workload[96];
    for (int k = 0; k < 4; k += 2) {
        snprintf(workload, sizeof workload, "HTTPS GET small, c=%d, %s (N=%ld)", cfg.tls_conc,
                 k == 0 ? "HTTP/2" : "HTTP/1.1", cfg.requests);
        throughput_rows(workload, &v[k].st, &v[k + 1].st, 0);
        struct row *row = add_row(workload, k == 0 ? "responses in HTTP/2" : "responses in HTTP/1.1");
        SET(row->nethttp, "%ld of %ld", v[k].st.version_ok, (long)v[k].st.n * cfg.requests);
        SET(row->raw, "%ld of %ld", v[k + 1].st.version_ok, (long)v[k + 1].st.n * cfg.requests);
        SET(row->target, "all");
        SET(row->verdict, "%s",
            verdict(v[k].st.version_ok == (long)v[k].st.n * cfg.requests && v[k].st.n > 0));
        failures_row(workload, v[k].st.failures, v[k + 1].st.failures);
    }
    /* Each side's HTTP/2 against its own HTTP/1.1, paired round by round. */
    snprintf(workload, sizeof workload, "HTTPS GET small, c=%d, HTTP/2 vs HTTP/1.1", cfg.tls_conc);
    struct row *row = add_row(workload, "requests/s, HTTP/2 ÷ HTTP/1.1 (range)");
    for (int side = 0; side < 2; side++) {
        const struct side_stats *a = &v[side].st, *b = &v[side + 2].st;
        int n = a->n < b->n ? a->n : b->n;
        double lo, hi, m = paired(a->rps, b->rps, (size_t)n, false, &lo, &hi);
        if (side == 0)
            SET(row->nethttp, "%.3f (%.2f…%.2f)", m, lo, hi);
        else
            SET(row->raw, "%.3f (%.2f…%.2f)", m, lo, hi);
    }
    nethttp_client_free(nh2, 0);
    nethttp_client_free(nh1, 0);
    raw_client_free(&raw2);
    raw_client_free(&raw1);
}

/* ------------------------------------------------------------------ */
/* Child processes: memory in flight, soak                             */
/* ------------------------------------------------------------------ */

static void warm_up_side(bool nethttp, struct raw_client *raw)
{
    struct job w = {.url = cfg.small_url, .n = 20, .conc = 2, .expect_len = -1};
    struct result res;
    if (nethttp)
        nh_run_chained(&w, &res);
    else
        raw_run(raw, &w, &res);
    if (res.failures)
        any_failure = true;
}

/* --child mem: RSS before, peak RSS (VmHWM) while N requests are in flight. */
static int child_mem(bool nethttp, long n)
{
    struct raw_client raw;
    raw_client_init(&raw);
    warm_up_side(nethttp, &raw);
    struct job j = {.url = cfg.hold_url, .n = n, .conc = n, .expect_len = -1};
    struct result res;
    long base = rss_now_kb();
    if (nethttp)
        nh_run_chained(&j, &res);
    else
        raw_run(&raw, &j, &res);
    long hwm = proc_status_kb("VmHWM");
    printf("RESULT %ld %ld %ld %.3f %.3f\n", base, hwm, res.failures, res.secs, res.first_done);
    fflush(stdout);
    if (nethttp)
        nethttp_shutdown();
    raw_client_free(&raw);
    return res.failures || any_failure ? 1 : 0;
}

/* --child soak: N requests at a low concurrency, RSS sampled along the way. */
static int child_soak(bool nethttp, long n, long conc)
{
    struct raw_client raw;
    raw_client_init(&raw);
    warm_up_side(nethttp, &raw);
    long checkpoint = n / 10 > 0 ? n / 10 : 1;
    long nsamples = n / checkpoint;
    long *samples = xmalloc((size_t)nsamples * sizeof *samples);
    struct job j = {.url = cfg.small_url,
                    .n = n,
                    .conc = conc,
                    .expect_len = -1,
                    .checkpoint = checkpoint,
                    .rss_kb = samples};
    struct result res;
    long start = rss_now_kb();
    if (nethttp)
        nh_run_chained(&j, &res);
    else
        raw_run(&raw, &j, &res);
    printf("RESULT %ld %ld %ld %ld %.3f %.3f\n", start, samples[0], samples[nsamples - 1],
           res.failures, res.secs, res.cpu);
    printf("SAMPLES");
    for (long i = 0; i < nsamples; i++)
        printf(" %ld", samples[i]);
    printf("\n");
    fflush(stdout);
    free(samples);
    if (nethttp)
        nethttp_shutdown();
    raw_client_free(&raw);
    return res.failures || any_failure ? 1 : 0;
}

static char self_exe[PATH_MAX];

/* Runs this program as a child with `args`; returns its "RESULT" line's
 * numbers (and the "SAMPLES" line in `samples`, when given). */
static int run_child(const char *args, double *vals, int nvals, char *samples, size_t samples_len)
{
    char cmd[PATH_MAX + 4096];
    snprintf(cmd, sizeof cmd, "'%s' --base '%s' --hold-url '%s' %s", self_exe, cfg.base,
             cfg.hold_url ? cfg.hold_url : "", args);
    fflush(stdout);
    fflush(stderr);
    FILE *p = popen(cmd, "r");
    if (!p)
        die("popen failed: %s", strerror(errno));
    char line[4096];
    int got = 0;
    while (fgets(line, sizeof line, p)) {
        if (strncmp(line, "RESULT ", 7) == 0) {
            char *s = line + 7;
            for (got = 0; got < nvals; got++) {
                char *end;
                vals[got] = strtod(s, &end);
                if (end == s)
                    break;
                s = end;
            }
        } else if (samples && strncmp(line, "SAMPLES", 7) == 0) {
            size_t len = strcspn(line + 7, "\n");
            if (len >= samples_len)
                len = samples_len - 1;
            memcpy(samples, line + 7, len);
            samples[len] = 0;
        }
    }
    int status = pclose(p);
    if (got != nvals || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "nethttp_bench: child \"%s\" failed (status %d, %d values)\n", args,
                status, got);
        any_failure = true;
        return -1;
    }
    return 0;
}

static void bench_memory(void)
{
    if (!cfg.hold_url) {
        fprintf(stderr, "nethttp_bench: no --hold-url, skipping the memory workload\n");
        return;
    }
    double nh_kib[16], rw_kib[16], nh_secs[16], rw_secs[16];
    double spread[2] = {0, 0}; /* max of last - first completion: nethttp, raw */
    int nn = 0, nr = 0;
    long nh_fail = 0, rw_fail = 0;
    for (int r = 0; r < cfg.mem_rounds && r < 16; r++) {
        for (int k = 0; k < 2; k++) {
            bool nethttp = (r % 2 == 0) == (k == 0);
            char args[256];
            snprintf(args, sizeof args, "--child mem --side %s --inflight %ld",
                     nethttp ? "nethttp" : "raw", cfg.inflight);
            double v[5];
            if (run_child(args, v, 5, NULL, 0) != 0) {
                *(nethttp ? &nh_fail : &rw_fail) += cfg.inflight;
                continue;
            }
            double per = (v[1] - v[0]) / (double)cfg.inflight;
            if (v[3] - v[4] > spread[nethttp ? 0 : 1])
                spread[nethttp ? 0 : 1] = v[3] - v[4];
            fprintf(stderr,
                    "  %ld in flight round %d %-11s base %.0f KiB peak %.0f KiB -> %.2f KiB/request, "
                    "%.0f failed, completions from %.2f s to %.2f s\n",
                    cfg.inflight, r + 1, nethttp ? "nethttp" : "raw libcurl", v[0], v[1], per, v[2],
                    v[4], v[3]);
            if (nethttp) {
                nh_kib[nn] = per;
                nh_secs[nn++] = v[3];
                nh_fail += (long)v[2];
            } else {
                rw_kib[nr] = per;
                rw_secs[nr++] = v[3];
                rw_fail += (long)v[2];
            }
        }
    }
    char workload[80];
    snprintf(workload, sizeof workload, "%ld requests in flight at once", cfg.inflight);
    double n = median(nh_kib, (size_t)nn), r = median(rw_kib, (size_t)nr);
    struct row *row = add_row(workload, "peak RSS per in-flight request (KiB)");
    SET(row->nethttp, "%.2f", n);
    SET(row->raw, "%.2f", r);
    SET(row->compare, "%+.2f KiB", n - r);
    SET(row->target, "≤ raw + 4 KiB");
    SET(row->verdict, "%s", verdict(nn > 0 && n - r <= 4.0));
    row = add_row(workload, "time until all completed (s)");
    SET(row->nethttp, "%.2f", median(nh_secs, (size_t)nn));
    SET(row->raw, "%.2f", median(rw_secs, (size_t)nr));
    /* Request i waits at the server from s_i to s_i + hold: all N are held at
     * once iff the completions spread over less than the hold time. */
    if (cfg.hold_ms > 0) {
        double hold = (double)cfg.hold_ms / 1000.0;
        row = add_row(workload, "all held at once? (max completion spread vs hold)");
        SET(row->nethttp, "%s (%.2f s)", spread[0] < hold ? "yes" : "no", spread[0]);
        SET(row->raw, "%s (%.2f s)", spread[1] < hold ? "yes" : "no", spread[1]);
        SET(row->compare, "hold %.1f s", hold);
    }
    failures_row(workload, nh_fail, rw_fail);
    if (nh_fail || rw_fail)
        any_failure = true;
}

static void bench_soak(void)
{
    double nh[6] = {0}, rw[6] = {0};
    char nh_samples[2048] = "", rw_samples[2048] = "";
    int ok_n = -1, ok_r = -1;
    char args[256];
    /* nethttp first, then raw: one run each (1,000,000 requests is long enough). */
    snprintf(args, sizeof args, "--child soak --side nethttp --soak %ld --soak-conc %d", cfg.soak,
             cfg.soak_conc);
    ok_n = run_child(args, nh, 6, nh_samples, sizeof nh_samples);
    snprintf(args, sizeof args, "--child soak --side raw --soak %ld --soak-conc %d", cfg.soak,
             cfg.soak_conc);
    ok_r = run_child(args, rw, 6, rw_samples, sizeof rw_samples);
    fprintf(stderr, "  soak nethttp: RSS KiB at start/after 10%%/end %.0f/%.0f/%.0f, samples%s\n",
            nh[0], nh[1], nh[2], nh_samples);
    fprintf(stderr, "  soak raw:     RSS KiB at start/after 10%%/end %.0f/%.0f/%.0f, samples%s\n",
            rw[0], rw[1], rw[2], rw_samples);
    char workload[80];
    snprintf(workload, sizeof workload, "Soak %ld GETs, c=%d", cfg.soak, cfg.soak_conc);
    double gn = (nh[2] - nh[1]) / nh[1] * 100, gr = (rw[2] - rw[1]) / rw[1] * 100;
    struct row *row = add_row(workload, "RSS after 10% → end (MiB)");
    SET(row->nethttp, "%.1f → %.1f", nh[1] / 1024, nh[2] / 1024);
    SET(row->raw, "%.1f → %.1f", rw[1] / 1024, rw[2] / 1024);
    row = add_row(workload, "RSS growth warm-up → end");
    SET(row->nethttp, "%+.2f %%", gn);
    SET(row->raw, "%+.2f %%", gr);
    SET(row->target, "≤ 5 %%");
    SET(row->verdict, "%s", verdict(ok_n == 0 && gn <= 5.0));
    row = add_row(workload, "requests/s");
    SET(row->nethttp, "%.0f", cfg.soak / nh[4]);
    SET(row->raw, "%.0f", cfg.soak / rw[4]);
    SET(row->compare, "%.3f", (cfg.soak / nh[4]) / (cfg.soak / rw[4]));
    row = add_row(workload, "CPU µs/request (user+sys)");
    SET(row->nethttp, "%.1f", nh[5] / (double)cfg.soak * 1e6);
    SET(row->raw, "%.1f", rw[5] / (double)cfg.soak * 1e6);
    SET(row->compare, "%.2f×", nh[5] / rw[5]);
    failures_row(workload, ok_n == 0 ? (long)nh[3] : cfg.soak, ok_r == 0 ? (long)rw[3] : cfg.soak);
}

/* ------------------------------------------------------------------ */
/* Encodings                                                            */
/* ------------------------------------------------------------------ */

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static uint64_t rng(void)
{
    /* xorshift64* */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545F4914F6CDD1Dull;
}

/* "text": URL-ish ASCII (letters, digits, some spaces and punctuation; about
 * one byte in six needs escaping); "binary": uniformly random bytes. */
static char *make_input(bool binary, size_t n)
{
    static const char text[] =
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~"
        "abcdefghijklmnopqrstuvwxyz0123456789 /?&=:%+,";
    char *buf = xmalloc(n);
    for (size_t i = 0; i < n; i++) {
        uint64_t r = rng();
        buf[i] = binary ? (char)(r >> 56) : text[(r >> 33) % (sizeof text - 1)];
    }
    return buf;
}

enum enc_op { NH_ENCODE, NH_DECODE, CURL_ENCODE, CURL_DECODE };

static CURL *enc_easy;

/* Runs `op` on `in` once; returns the output length. */
static size_t enc_once(enum enc_op op, const char *in, size_t len)
{
    size_t out_len = 0;
    int ilen = 0;
    char *out = NULL;
    switch (op) {
    case NH_ENCODE:
        out = nethttp_urlencode(in, len, &out_len);
        nethttp_free(out);
        break;
    case NH_DECODE:
        out = nethttp_urldecode(in, len, &out_len);
        nethttp_free(out);
        break;
    case CURL_ENCODE:
        out = curl_easy_escape(enc_easy, in, (int)len);
        out_len = out ? strlen(out) : 0;
        curl_free(out);
        break;
    case CURL_DECODE:
        out = curl_easy_unescape(enc_easy, in, (int)len, &ilen);
        out_len = (size_t)ilen;
        curl_free(out);
        break;
    }
    if (!out)
        die("encoding operation %d failed on %zu bytes", (int)op, len);
    return out_len;
}

/* MB/s of input for `op`, repeated so that a measurement takes ≥ 0.1 s. */
static double enc_rate(enum enc_op op, const char *in, size_t len, int *reps)
{
    if (*reps == 0) {
        double t = now_s();
        enc_once(op, in, len);
        t = now_s() - t;
        *reps = t >= 0.1 ? 1 : (int)(0.1 / (t > 1e-6 ? t : 1e-6)) + 1;
    }
    double t0 = now_s();
    for (int i = 0; i < *reps; i++)
        enc_once(op, in, len);
    return (double)len * (double)*reps / 1e6 / (now_s() - t0);
}

static bool same_output(const char *a, size_t alen, const char *b, size_t blen)
{
    return a && b && alen == blen && memcmp(a, b, alen) == 0;
}

static void bench_encoding(void)
{
    enc_easy = curl_easy_init();
    for (int kind = 0; kind < 2; kind++) {
        bool binary = kind == 1;
        const char *kname = binary ? "random bytes" : "URL-ish text";
        size_t len = cfg.enc_size;
        char *in = make_input(binary, len);
        size_t enc_len, dec_len;
        char *enc = nethttp_urlencode(in, len, &enc_len);
        char *cenc = curl_easy_escape(enc_easy, in, (int)len);
        bool enc_same = same_output(enc, enc_len, cenc, cenc ? strlen(cenc) : 0);
        char *dec = nethttp_urldecode(enc, enc_len, &dec_len);
        int cdec_len = 0;
        char *cdec = curl_easy_unescape(enc_easy, enc, (int)enc_len, &cdec_len);
        bool dec_same = same_output(dec, dec_len, in, len) &&
                        same_output(cdec, (size_t)cdec_len, in, len);
        if (!enc_same || !dec_same) {
            fprintf(stderr, "nethttp_bench: %s: outputs differ (encode %s, decode %s)\n", kname,
                    enc_same ? "same" : "DIFFERENT", dec_same ? "same" : "DIFFERENT");
            any_failure = true;
        }
        nethttp_free(dec);
        curl_free(cenc);
        curl_free(cdec);
        double ne[16], ce[16], nd[16], cd[16];
        int reps[4] = {0};
        int rounds = cfg.enc_rounds < 16 ? cfg.enc_rounds : 16;
        for (int r = 0; r < rounds; r++) {
            if (r % 2 == 0) {
                ne[r] = enc_rate(NH_ENCODE, in, len, &reps[0]);
                ce[r] = enc_rate(CURL_ENCODE, in, len, &reps[1]);
                nd[r] = enc_rate(NH_DECODE, enc, enc_len, &reps[2]);
                cd[r] = enc_rate(CURL_DECODE, enc, enc_len, &reps[3]);
            } else {
                ce[r] = enc_rate(CURL_ENCODE, in, len, &reps[1]);
                ne[r] = enc_rate(NH_ENCODE, in, len, &reps[0]);
                cd[r] = enc_rate(CURL_DECODE, enc, enc_len, &reps[3]);
                nd[r] = enc_rate(NH_DECODE, enc, enc_len, &reps[2]);
            }
        }
        char workload[80], sz[32];
        size_label(len, sz, sizeof sz);
        snprintf(workload, sizeof workload, "urlencode %s %s", sz, kname);
        struct row *row = add_row(workload, "MB/s of input (vs curl_easy_escape)");
        double re = compare_cells(row, ne, ce, rounds, false, "%.0f");
        SET(row->target, "ratio ≥ 1.00");
        SET(row->verdict, "%s", verdict(enc_same && re >= 1.0));
        snprintf(workload, sizeof workload, "urldecode %s %s, encoded", sz, kname);
        row = add_row(workload, "MB/s of input (vs curl_easy_unescape)");
        double rd = compare_cells(row, nd, cd, rounds, false, "%.0f");
        SET(row->target, "ratio ≥ 1.00");
        SET(row->verdict, "%s", verdict(dec_same && rd >= 1.0));
        fprintf(stderr, "  %s %s: encode %s vs %s MB/s, decode %s vs %s MB/s\n", kname, sz,
                rows[nrows - 2].nethttp, rows[nrows - 2].raw, row->nethttp, row->raw);
        nethttp_free(enc);
        free(in);
    }
    /* nethttp alone on a buffer curl refuses (over CURL_MAX_INPUT_LENGTH). */
    for (int kind = 0; kind < 2 && cfg.enc_big > 0; kind++) {
        bool binary = kind == 1;
        size_t len = cfg.enc_big;
        char *in = make_input(binary, len);
        size_t enc_len = 0;
        char *enc = nethttp_urlencode(in, len, &enc_len);
        if (!enc)
            die("nethttp_urlencode failed on %zu bytes", len);
        double e[16], d[16];
        int reps[2] = {1, 1};
        int rounds = cfg.enc_rounds < 3 ? cfg.enc_rounds : 3;
        for (int r = 0; r < rounds; r++) {
            e[r] = enc_rate(NH_ENCODE, in, len, &reps[0]);
            d[r] = enc_rate(NH_DECODE, enc, enc_len, &reps[1]);
        }
        char workload[96], sz[32];
        snprintf(workload, sizeof workload, "urlencode / urldecode %s %s (nethttp only)",
                 size_label(len, sz, sizeof sz), binary ? "random bytes" : "URL-ish text");
        struct row *row = add_row(workload, "MB/s of input, encode");
        SET(row->nethttp, "%.0f", median(e, (size_t)rounds));
        SET(row->raw, "refused (> 8 MB)");
        row = add_row(workload, "MB/s of input, decode");
        SET(row->nethttp, "%.0f", median(d, (size_t)rounds));
        SET(row->raw, "refused (> 8 MB)");
        fprintf(stderr, "  %s %s: encode %.0f MB/s, decode %.0f MB/s\n", sz,
                binary ? "random bytes" : "text", median(e, (size_t)rounds),
                median(d, (size_t)rounds));
        nethttp_free(enc);
        free(in);
    }
    curl_easy_cleanup(enc_easy);
}

/* ------------------------------------------------------------------ */
/* Command line                                                         */
/* ------------------------------------------------------------------ */

static void usage(void)
{
    fputs("usage: nethttp_bench --base http://127.0.0.1:PORT [options]\n"
          "  --hold-url URL        endpoint that holds its answer (memory workload)\n"
          "  --status-url URL      nginx stub_status, to count new connections\n"
          "  --requests N          GETs per run and side (20000)\n"
          "  --concurrency LIST    levels, comma-separated (1,10,50,200,1000)\n"
          "  --rounds R            measured rounds per side (7)\n"
          "  --app-requests N      c=1 GETs submitted by the application thread (10000)\n"
          "  --post-requests N     POSTs per run (20000)   --post-size BYTES (16384)\n"
          "  --post-conc C         (50)\n"
          "  --download-size BYTES size of /big.bin (64 MiB)  --download-rounds R (7)\n"
          "  --inflight N          requests held in flight at once (10000)\n"
          "  --mem-rounds R        (3)   --hold-ms MS  how long the hold URL holds\n"
          "  --soak N              soak requests per side (1000000)  --soak-conc C (4)\n"
          "  --enc-size BYTES      (4 MiB)  --enc-big BYTES (256 MiB, 0 = skip)\n"
          "  --enc-rounds R        (5)\n"
          "  --only LIST           throughput,latency,post,download,memory,soak,encoding,dispatch,idle,\n"
          "                        stream,h2\n"
          "  --tls-base URL        https://127.0.0.1:PORT serving /small over HTTP/2 and 1.1 (h2)\n"
          "  --ca-file FILE        the CA of that server's certificate\n"
          "  --tls-conc C          (50)\n"
          "  --idle-url URL        an endpoint that holds responses for minutes (idle workload)\n"
          "  --idle LIST           idle transfers beside c=10 active ones (1000,5000)\n"
          "  --markdown FILE       write the table there too\n"
          "  --data FILE           write plot data (TSV) there\n"
          "  --sides nethttp|raw   run one side only (for profiling; no ratios then)\n"
          "  --raw-as-nethttp LIST the raw loop also does what nethttp does, to measure its\n"
          "                        cost (profiling aid): accept-encoding (nethttp's\n"
          "                        Accept-Encoding line, libcurl decoding), fresh-handles\n"
          "                        (a new easy handle per request, as nethttp on libcurl < 8.1)\n",
          stderr);
    exit(2);
}

static long arg_long(const char *s)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || v < 0)
        die("not a number: %s", s);
    return v;
}

static unsigned parse_workloads(const char *list)
{
    static const char *names[] = {"throughput", "latency", "post",    "download",
                                  "memory",     "soak",    "encoding", "dispatch", "idle",
                                  "stream",     "h2"};
    unsigned w = 0;
    char buf[256];
    snprintf(buf, sizeof buf, "%s", list);
    for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ",")) {
        unsigned bit = 0;
        for (unsigned i = 0; i < sizeof names / sizeof *names; i++)
            if (strcmp(tok, names[i]) == 0)
                bit = 1u << i;
        if (!bit)
            die("unknown workload: %s", tok);
        w |= bit;
    }
    return w;
}

int main(int argc, char **argv)
{
    const char *child = NULL, *side = "nethttp";
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (i + 1 >= argc)
            usage();
        const char *v = argv[++i];
        if (!strcmp(a, "--base"))
            cfg.base = v;
        else if (!strcmp(a, "--hold-url"))
            cfg.hold_url = *v ? v : NULL;
        else if (!strcmp(a, "--status-url"))
            cfg.status_url = *v ? v : NULL;
        else if (!strcmp(a, "--tls-base"))
            cfg.tls_base = *v ? v : NULL;
        else if (!strcmp(a, "--ca-file"))
            cfg.ca_file = *v ? v : NULL;
        else if (!strcmp(a, "--tls-conc"))
            cfg.tls_conc = (int)arg_long(v);
        else if (!strcmp(a, "--requests"))
            cfg.requests = arg_long(v);
        else if (!strcmp(a, "--concurrency")) {
            char buf[256];
            snprintf(buf, sizeof buf, "%s", v);
            cfg.nconc = 0;
            for (char *tok = strtok(buf, ","); tok && cfg.nconc < MAX_CONC_LEVELS;
                 tok = strtok(NULL, ","))
                cfg.conc[cfg.nconc++] = (int)arg_long(tok);
        } else if (!strcmp(a, "--idle-url"))
            cfg.idle_url = *v ? v : NULL;
        else if (!strcmp(a, "--idle")) {
            char buf[256];
            snprintf(buf, sizeof buf, "%s", v);
            cfg.nidle = 0;
            for (char *tok = strtok(buf, ","); tok && cfg.nidle < MAX_CONC_LEVELS; tok = strtok(NULL, ","))
                cfg.idle[cfg.nidle++] = (int)arg_long(tok);
        } else if (!strcmp(a, "--rounds"))
            cfg.rounds = (int)arg_long(v);
        else if (!strcmp(a, "--app-requests"))
            cfg.app_requests = arg_long(v);
        else if (!strcmp(a, "--post-requests"))
            cfg.post_requests = arg_long(v);
        else if (!strcmp(a, "--post-size"))
            cfg.post_size = (size_t)arg_long(v);
        else if (!strcmp(a, "--post-conc"))
            cfg.post_conc = (int)arg_long(v);
        else if (!strcmp(a, "--download-size"))
            cfg.download_size = (size_t)arg_long(v);
        else if (!strcmp(a, "--download-rounds"))
            cfg.download_rounds = (int)arg_long(v);
        else if (!strcmp(a, "--inflight"))
            cfg.inflight = arg_long(v);
        else if (!strcmp(a, "--hold-ms"))
            cfg.hold_ms = arg_long(v);
        else if (!strcmp(a, "--mem-rounds"))
            cfg.mem_rounds = (int)arg_long(v);
        else if (!strcmp(a, "--soak"))
            cfg.soak = arg_long(v);
        else if (!strcmp(a, "--soak-conc"))
            cfg.soak_conc = (int)arg_long(v);
        else if (!strcmp(a, "--enc-size"))
            cfg.enc_size = (size_t)arg_long(v);
        else if (!strcmp(a, "--enc-big"))
            cfg.enc_big = (size_t)arg_long(v);
        else if (!strcmp(a, "--enc-rounds"))
            cfg.enc_rounds = (int)arg_long(v);
        else if (!strcmp(a, "--only"))
            cfg.workloads = parse_workloads(v);
        else if (!strcmp(a, "--markdown"))
            cfg.markdown = v;
        else if (!strcmp(a, "--data"))
            cfg.data = v;
        else if (!strcmp(a, "--sides"))
            cfg.sides = !strcmp(v, "nethttp") ? 1 : !strcmp(v, "raw") ? 2 : 3;
        else if (!strcmp(a, "--raw-as-nethttp")) {
            char buf[256];
            snprintf(buf, sizeof buf, "%s", v);
            for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ","))
                if (!strcmp(tok, "accept-encoding"))
                    cfg.raw_as_nethttp |= RAW_ACCEPT_ENCODING;
                else if (!strcmp(tok, "fresh-handles"))
                    cfg.raw_as_nethttp |= RAW_FRESH_HANDLES;
                else
                    usage();
        }
        else if (!strcmp(a, "--child"))
            child = v;
        else if (!strcmp(a, "--side"))
            side = v;
        else
            usage();
    }
    if (!cfg.base)
        usage();
    if (cfg.rounds < 1 || cfg.rounds > 64 || cfg.download_rounds < 1 || cfg.download_rounds > 64 ||
        cfg.enc_rounds < 1 || cfg.mem_rounds < 1 || cfg.nconc < 1 || cfg.soak_conc < 1 ||
        cfg.post_conc < 1 || cfg.tls_conc < 1 || cfg.requests < 1 || cfg.app_requests < 1 || cfg.post_requests < 1 ||
        cfg.inflight < 1 || cfg.soak < 1 || cfg.enc_size < 1 || cfg.enc_size > 8000000)
        die("an argument is out of range (rounds 1..64, sizes and counts >= 1, "
            "--enc-size <= 8000000: curl refuses more)");
    snprintf(cfg.small_url, sizeof cfg.small_url, "%s/small", cfg.base);
    snprintf(cfg.post_url, sizeof cfg.post_url, "%s/post", cfg.base);
    snprintf(cfg.big_url, sizeof cfg.big_url, "%s/big.bin", cfg.base);
    if (cfg.tls_base)
        snprintf(cfg.tls_small_url, sizeof cfg.tls_small_url, "%s/small", cfg.tls_base);

    /* Before any thread exists; nethttp's own curl::init() then only counts up. */
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        die("curl_global_init failed");

    if (child) {
        bool nethttp = !strcmp(side, "nethttp");
        if (!strcmp(child, "mem"))
            return child_mem(nethttp, cfg.inflight);
        if (!strcmp(child, "soak"))
            return child_soak(nethttp, cfg.soak, cfg.soak_conc);
        die("unknown child mode %s", child);
    }

    ssize_t n = readlink("/proc/self/exe", self_exe, sizeof self_exe - 1);
    if (n <= 0)
        die("cannot find my own executable");
    self_exe[n] = 0;
    if (cfg.data) {
        data_file = fopen(cfg.data, "w");
        if (!data_file)
            die("cannot write %s: %s", cfg.data, strerror(errno));
    }
    const curl_version_info_data *ci = curl_version_info(CURLVERSION_NOW);
    fprintf(stderr, "nethttp %s, libcurl %s (%s), server %s\n", nethttp_version(), ci->version,
            ci->ssl_version ? ci->ssl_version : "no TLS", cfg.base);
    if (data_file)
        fprintf(data_file, "versions\tnethttp %s\tlibcurl %s\n", nethttp_version(), ci->version);

    /* Encodings and the child-process workloads first, while this process
     * holds no sockets a child could inherit. */
    if (cfg.workloads & W_ENCODING) {
        fprintf(stderr, "encoding\n");
        bench_encoding();
    }
    if (cfg.workloads & W_MEMORY) {
        fprintf(stderr, "memory: %ld requests in flight\n", cfg.inflight);
        bench_memory();
    }
    if (cfg.workloads & W_SOAK) {
        fprintf(stderr, "soak: %ld requests per side\n", cfg.soak);
        bench_soak();
    }
    struct raw_client raw;
    raw_client_init(&raw);
    if (cfg.workloads & (W_THROUGHPUT | W_LATENCY)) {
        fprintf(stderr, "throughput%s\n", cfg.workloads & W_LATENCY ? " and latency" : "");
        bench_throughput(&raw);
    }
    if (cfg.workloads & W_LATENCY) {
        fprintf(stderr, "latency, requests submitted by the application thread\n");
        bench_app_thread(&raw);
    }
    if (cfg.workloads & W_IDLE) {
        fprintf(stderr, "idle transfers\n");
        bench_idle(&raw);
    }
    if (cfg.workloads & W_DISPATCH) {
        fprintf(stderr, "dispatch mode\n");
        bench_dispatch(&raw);
    }
    if (cfg.workloads & W_POST) {
        fprintf(stderr, "post\n");
        bench_post(&raw);
    }
    if (cfg.workloads & W_DOWNLOAD) {
        fprintf(stderr, "download\n");
        bench_download(&raw, false);
    }
    if (cfg.workloads & W_STREAM) {
        fprintf(stderr, "download, streamed\n");
        bench_download(&raw, true);
    }
    if (cfg.workloads & W_H2) {
        fprintf(stderr, "HTTPS, HTTP/2 and HTTP/1.1\n");
        bench_h2();
    }
    if (dispatch_client)
        nethttp_client_free(dispatch_client, 0);
    if (idle_client)
        nethttp_client_free(idle_client, 0);
    nethttp_shutdown();
    raw_client_free(&raw);
    if (status_easy)
        curl_easy_cleanup(status_easy);

    printf("\n");
    print_table(stdout);
    if (cfg.markdown) {
        FILE *f = fopen(cfg.markdown, "w");
        if (!f)
            die("cannot write %s: %s", cfg.markdown, strerror(errno));
        print_table(f);
        fclose(f);
    }
    if (data_file)
        fclose(data_file);
    curl_global_cleanup();
    if (any_failure)
        fprintf(stderr, "nethttp_bench: FAILED: some requests failed or outputs differ\n");
    return any_failure ? 1 : 0;
}
