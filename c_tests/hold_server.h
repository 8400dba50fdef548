/* A server in a child process of its own (its own descriptor limit) that
 * accepts every connection and answers each request `hold_ms` after it
 * arrived, so that thousands of requests are in flight together. The Python
 * test server accepts too slowly for that. Requests have no body; the
 * answer is "ok". */
#ifndef NETHTTP_HOLD_SERVER_H
#define NETHTTP_HOLD_SERVER_H

#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test_util.h"

struct held {
    int fd;
    double due; /* 0 until the request head arrived */
    char tail[4];
};

/* Serves `listener` for ever, at most `max_conns` connections. */
static void hold_server_run(int listener, int max_conns, int hold_ms) {
    static const char reply[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
    struct held *conns = calloc((size_t)max_conns, sizeof *conns);
    struct epoll_event ev, events[256];
    int epfd = epoll_create1(0), nconns = 0, i, n;
    if (!conns || epfd < 0) {
        _exit(1);
    }
    fcntl(listener, F_SETFL, fcntl(listener, F_GETFL) | O_NONBLOCK);
    ev.events = EPOLLIN;
    ev.data.u32 = UINT32_MAX;
    epoll_ctl(epfd, EPOLL_CTL_ADD, listener, &ev);
    for (;;) {
        double now;
        n = epoll_wait(epfd, events, 256, 20);
        for (i = 0; i < n; i++) {
            uint32_t k = events[i].data.u32;
            if (k == UINT32_MAX) {
                int fd;
                while (nconns < max_conns && (fd = accept(listener, NULL, NULL)) >= 0) {
                    conns[nconns].fd = fd;
                    conns[nconns].due = 0;
                    ev.events = EPOLLIN;
                    ev.data.u32 = (uint32_t)nconns++;
                    epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
                }
            } else {
                char buf[4096];
                ssize_t got = read(conns[k].fd, buf, sizeof buf);
                ssize_t j;
                if (got <= 0) {
                    epoll_ctl(epfd, EPOLL_CTL_DEL, conns[k].fd, NULL);
                    close(conns[k].fd);
                    conns[k].fd = -1;
                    continue;
                }
                /* The head ends at CRLF CRLF. */
                for (j = 0; j < got; j++) {
                    memmove(conns[k].tail, conns[k].tail + 1, 3);
                    conns[k].tail[3] = buf[j];
                    if (memcmp(conns[k].tail, "\r\n\r\n", 4) == 0) {
                        conns[k].due = test_now_ms() + hold_ms;
                    }
                }
            }
        }
        now = test_now_ms();
        for (i = 0; i < nconns; i++) {
            if (conns[i].fd >= 0 && conns[i].due > 0 && conns[i].due <= now) {
                if (write(conns[i].fd, reply, sizeof reply - 1) < 0) {
                    close(conns[i].fd);
                    conns[i].fd = -1;
                }
                conns[i].due = 0;
            }
        }
    }
}

/* Starts the server in a child process on a loopback port of its own;
 * returns the child (or -1) and sets *port. */
static inline pid_t hold_server_start(int max_conns, int hold_ms, int *port) {
    pid_t child;
    int listener = test_loopback_listener(4096, port);
    if (listener < 0) {
        return -1;
    }
    fflush(NULL);
    child = fork();
    if (child == 0) {
        hold_server_run(listener, max_conns, hold_ms);
        _exit(0);
    }
    close(listener);
    return child;
}

/* Makes `n` requests to the hold server on `port`, each with a timeout of
 * `timeout_ms`, on `client` (NULL: the default client); returns how many
 * were made. */
static inline int hold_server_requests(struct nethttp_client *client, int port, int n, long timeout_ms,
                                       nethttp_callback callback) {
    struct nethttp_options *options = nethttp_options_new();
    char url[256];
    int made = 0;
    nethttp_options_set_timeout_ms(options, timeout_ms);
    test_url(url, sizeof url, port, "/hold");
    while (made < n && (client ? nethttp_client_request(client, url, options, callback, NULL)
                               : nethttp_request(url, options, callback, NULL)) != NULL) {
        made++;
    }
    if (made < n) {
        fprintf(stderr, "request %d to the hold server: %s\n", made, nethttp_last_error());
    }
    nethttp_options_free(options);
    return made;
}

static inline void hold_server_stop(pid_t child) {
    int status;
    if (child > 0) {
        kill(child, SIGKILL);
        waitpid(child, &status, 0);
    }
}

#endif
