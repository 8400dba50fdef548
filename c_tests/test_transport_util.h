/* Helpers of the transport and TLS tests: every port of the test server,
 * its Unix socket, its certificate files, and features. */
#ifndef NETHTTP_TEST_TRANSPORT_UTIL_H
#define NETHTTP_TEST_TRANSPORT_UTIL_H

#include "test_util.h"

/* The test server's port file, in order (c_tests/server/test_server.py). */
struct transport_server {
    int http_port;
    int https_port;
    int expired_port;
    int wronghost_port;
    int mtls_port;    /* requires a client certificate issued by cert.pem */
    int tls12_port;   /* TLS 1.2 at most */
    int example_port; /* certificate for example.test only */
    int proxy_port;   /* forwarding proxy with CONNECT, and /proxy/log */
    int alt_http_port; /* a second plain HTTP listener (0 if the file has none) */
    char unix_socket[256];
    char cert_file[4096]; /* cert.pem: the test CA and the servers' certificate */
    char dir[4096];       /* c_tests/server, where the certificates are */
};

/* Reads argv[1] (the port file, and PORT_FILE.unix) and argv[2] (cert.pem,
 * whose directory holds the other certificates); exits on error. */
static inline struct transport_server transport_server_from_args(int argc, char **argv) {
    struct transport_server s;
    char path[4200];
    FILE *f;
    char *slash;
    memset(&s, 0, sizeof s);
    if (argc < 3 || (f = fopen(argv[1], "r")) == NULL) {
        fprintf(stderr, "usage: %s PORT_FILE CERT_FILE (the test server's port file and cert.pem)\n", argv[0]);
        exit(2);
    }
    if (fscanf(f, "%d %d %d %d %d %d %d %d", &s.http_port, &s.https_port, &s.expired_port, &s.wronghost_port,
               &s.mtls_port, &s.tls12_port, &s.example_port, &s.proxy_port) != 8) {
        fprintf(stderr, "%s: %s does not list the 8 ports of the test server\n", argv[0], argv[1]);
        exit(2);
    }
    if (fscanf(f, "%d", &s.alt_http_port) != 1) {
        s.alt_http_port = 0;
    }
    fclose(f);
    snprintf(path, sizeof path, "%s.unix", argv[1]);
    if ((f = fopen(path, "r")) != NULL) {
        if (fgets(s.unix_socket, sizeof s.unix_socket, f) != NULL) {
            s.unix_socket[strcspn(s.unix_socket, "\n")] = '\0';
        }
        fclose(f);
    }
    snprintf(s.cert_file, sizeof s.cert_file, "%s", argv[2]);
    snprintf(s.dir, sizeof s.dir, "%s", argv[2]);
    slash = strrchr(s.dir, '/');
    if (slash != NULL) {
        *slash = '\0';
    } else {
        snprintf(s.dir, sizeof s.dir, ".");
    }
    return s;
}

/* DIR/name in a static buffer of its own per slot (0..3). */
static inline const char *transport_file(const struct transport_server *s, int slot, const char *name) {
    static char paths[4][4200];
    snprintf(paths[slot & 3], sizeof paths[0], "%s/%s", s->dir, name);
    return paths[slot & 3];
}

/* The whole of a small text file (static buffer), without a final newline. */
static inline const char *transport_read_file(const char *path) {
    static char text[65536];
    size_t n = 0;
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "cannot read %s\n", path);
        exit(2);
    }
    n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == '\r')) {
        text[--n] = '\0';
    }
    return text;
}

/* True when nethttp_features() lists `word` (compared word by word). */
static inline int transport_has_feature(const char *word) {
    const char *p = nethttp_features();
    size_t n = strlen(word);
    while (p != NULL && *p != '\0') {
        size_t len = strcspn(p, " ");
        if (len == n && strncmp(p, word, n) == 0) {
            return 1;
        }
        p += len;
        while (*p == ' ') {
            p++;
        }
    }
    return 0;
}

/* Prints why a part of a test is skipped; returns 1 when `word` is missing. */
static inline int transport_skip_without(const char *word, const char *what) {
    if (transport_has_feature(word)) {
        return 0;
    }
    printf("SKIP %s: this build has no \"%s\" (nethttp_features() says \"%s\")\n", what, word, nethttp_features());
    return 1;
}

/* What the test proxy saw so far, fetched directly (proxy ""). Returns a
 * static copy. */
static inline const char *transport_proxy_log(const struct transport_server *s) {
    static char text[65536];
    struct nethttp_options *direct = nethttp_options_new();
    struct capture c;
    char url[128];
    nethttp_options_set_proxy(direct, "");
    capture_init(&c);
    snprintf(url, sizeof url, "http://127.0.0.1:%d/proxy/log", s->proxy_port);
    text[0] = '\0';
    if (capture_fetch(&c, url, direct) && c.status == 200 && c.body != NULL) {
        snprintf(text, sizeof text, "%s", c.body);
    } else {
        fprintf(stderr, "cannot read the proxy's log: %s (%s)\n", c.error, c.detail);
    }
    capture_free(&c);
    nethttp_options_free(direct);
    return text;
}

/* Counts the lines of `log` that start with `prefix`. */
static inline int transport_count_lines(const char *log, const char *prefix) {
    int count = 0;
    size_t n = strlen(prefix);
    const char *line = log;
    while (line != NULL && *line != '\0') {
        if (strncmp(line, prefix, n) == 0) {
            count++;
        }
        line = strchr(line, '\n');
        if (line != NULL) {
            line++;
        }
    }
    return count;
}

#endif
