/* Helpers of the streaming, redirect, compression, HTTP/2, retry and cookie
 * tests: the test server's /bytes pattern, a data-callback sink that checks
 * it byte for byte, peak memory, and small fetch helpers. */
#ifndef NETHTTP_TEST_STREAM_UTIL_H
#define NETHTTP_TEST_STREAM_UTIL_H

#include <stdint.h>
#include <strings.h>

#include "test_transport_util.h"

/* Byte i of the test server's /bytes stream: (i * 7 + 3) % 256. */
static inline unsigned char stream_pattern_byte(uint64_t i) {
    return (unsigned char)((i * 7 + 3) % 256);
}

/* 64 KiB of the pattern plus one period, so that [off % 256, + n) for any
 * n <= 64 KiB is the pattern at offset off. */
#define STREAM_PATTERN_SPAN (64 * 1024)
static unsigned char stream_pattern_buf[STREAM_PATTERN_SPAN + 256];

static inline void stream_pattern_init(void) {
    size_t i;
    for (i = 0; i < sizeof stream_pattern_buf; i++) {
        stream_pattern_buf[i] = stream_pattern_byte(i);
    }
}

/* True when the `len` bytes at `data` are the pattern from `offset` on. */
static inline int stream_pattern_matches(const char *data, size_t len, uint64_t offset) {
    while (len > 0) {
        size_t n = len < STREAM_PATTERN_SPAN ? len : STREAM_PATTERN_SPAN;
        if (memcmp(data, stream_pattern_buf + offset % 256, n) != 0) {
            return 0;
        }
        data += n;
        len -= n;
        offset += n;
    }
    return 1;
}

/* Fills `buf` with the pattern from `offset` on. */
static inline void stream_pattern_fill(char *buf, size_t len, uint64_t offset) {
    while (len > 0) {
        size_t n = len < STREAM_PATTERN_SPAN ? len : STREAM_PATTERN_SPAN;
        memcpy(buf, stream_pattern_buf + offset % 256, n);
        buf += n;
        len -= n;
        offset += n;
    }
}

/* What a data callback saw. Updated under `lock` (the callback may run on
 * an engine thread while the main thread reads). */
struct sink {
    pthread_mutex_t lock;
    uint64_t bytes;        /* delivered so far */
    uint64_t chunks;
    uint64_t bad_chunks;   /* chunks that were not the pattern at their offset */
    uint64_t empty_chunks; /* chunks of length 0 */
    int bad_head;          /* chunks whose head was NULL or not `want_status` */
    int want_status;
    /* Pause: return NETHTTP_DATA_PAUSE once `bytes` passes pause_at (0: never). */
    uint64_t pause_at;
    int paused;            /* set when the PAUSE was returned */
    uint64_t chunks_at_pause;
    /* Abort: return `abort_value` once `bytes` passes abort_at (0: never). */
    uint64_t abort_at;
    int abort_value;
    int aborted;
    uint64_t chunks_after_abort;
    int check_pattern;     /* compare every byte with the /bytes pattern */
};

static inline void sink_init(struct sink *s, int check_pattern) {
    memset(s, 0, sizeof *s);
    pthread_mutex_init(&s->lock, NULL);
    s->want_status = 200;
    s->check_pattern = check_pattern;
}

static inline void sink_free(struct sink *s) {
    pthread_mutex_destroy(&s->lock);
}

static inline int sink_callback(const char *data, size_t len, const struct nethttp_response *head, void *userdata) {
    struct sink *s = (struct sink *)userdata;
    int result = 0;
    pthread_mutex_lock(&s->lock);
    if (s->aborted) {
        s->chunks_after_abort++;
    }
    if (head == NULL || nethttp_response_status(head) != s->want_status) {
        s->bad_head++;
    }
    if (len == 0) {
        s->empty_chunks++;
    }
    if (s->check_pattern && len > 0 && (data == NULL || !stream_pattern_matches(data, len, s->bytes))) {
        s->bad_chunks++;
    }
    s->bytes += len;
    s->chunks++;
    if (s->pause_at != 0 && !s->paused && s->bytes >= s->pause_at) {
        s->paused = 1;
        s->chunks_at_pause = s->chunks;
        result = NETHTTP_DATA_PAUSE;
    }
    if (s->abort_at != 0 && !s->aborted && s->bytes >= s->abort_at) {
        s->aborted = 1;
        result = s->abort_value;
    }
    pthread_mutex_unlock(&s->lock);
    return result;
}

/* Reads one field of the sink under its lock. */
#define SINK_GET(s, field, out)          \
    do {                                 \
        pthread_mutex_lock(&(s)->lock);  \
        (out) = (s)->field;              \
        pthread_mutex_unlock(&(s)->lock); \
    } while (0)

/* The peak resident set size of this process (VmHWM), in KiB; -1 if unknown. */
static inline long stream_peak_rss_kib(void) {
    char line[256];
    long kib = -1;
    FILE *f = fopen("/proc/self/status", "r");
    if (f == NULL) {
        return -1;
    }
    while (fgets(line, sizeof line, f) != NULL) {
        if (strncmp(line, "VmHWM:", 6) == 0) {
            kib = strtol(line + 6, NULL, 10);
            break;
        }
    }
    fclose(f);
    return kib;
}

/* GET `url` through the default client (engine thread) and copy its body,
 * NUL-terminated, into `out`; returns the status (0 on failure). For asking
 * the test server about other requests (/sent, /count). */
static inline int stream_get_text(const char *url, char *out, size_t size) {
    struct capture c;
    int status = 0;
    capture_init(&c);
    out[0] = '\0';
    if (capture_fetch(&c, url, NULL)) {
        status = c.status;
        snprintf(out, size, "%s", c.body ? c.body : "");
    }
    capture_free(&c);
    return status;
}

/* True when the `len` bytes at `hay` contain `needle` at the start of a
 * line (for /echo's header lines), compared case-insensitively. */
static inline int stream_has_line(const char *hay, size_t len, const char *needle) {
    size_t n = strlen(needle), i;
    for (i = 0; hay != NULL && i + n <= len; i++) {
        if ((i == 0 || hay[i - 1] == '\n') && strncasecmp(hay + i, needle, n) == 0) {
            return 1;
        }
    }
    return 0;
}

#endif
