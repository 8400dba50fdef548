/* post_form: POST an application/x-www-form-urlencoded form built with
 * nethttp_form_add() and nethttp_formencode(), and print the answer.
 *
 *   post_form URL [NAME VALUE]...
 *
 * Without NAME VALUE pairs it posts name=Ada Lovelace, lang=C & C++ and
 * city=Zürich. Exit status: 0 when the server answered with a 2xx status,
 * 1 otherwise, 2 on bad usage.
 */
#define _POSIX_C_SOURCE 200809L

#include <nethttp.h>

#include <pthread.h>
#include <stdio.h>
#include <string.h>

struct completion {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int finished;
    int status;
};

static int on_response(const char *body, size_t body_len, int status,
                       const struct nethttp_response *response, void *userdata) {
    struct completion *completion = userdata;

    if (status == 0) {
        fprintf(stderr, "request failed: %s (%s)\n", body, nethttp_response_error_detail(response));
    } else {
        printf("HTTP %d, %zu bytes:\n", status, body_len);
        fwrite(body, 1, body_len, stdout);
        printf("\n");
        fflush(stdout);
    }
    pthread_mutex_lock(&completion->lock);
    completion->finished = 1;
    completion->status = status;
    pthread_cond_signal(&completion->cond);
    pthread_mutex_unlock(&completion->lock);
    return 0;
}

/* Appends a NUL-terminated name and value; the form copies both. */
static int add_field(struct nethttp_form *form, const char *name, const char *value) {
    if (nethttp_form_add(form, name, strlen(name), value, strlen(value)) != NETHTTP_RESULT_OK) {
        fprintf(stderr, "nethttp_form_add: %s\n", nethttp_last_error());
        return 0;
    }
    return 1;
}

int main(int argc, char **argv) {
    static const char *const default_fields[] = {
        "name", "Ada Lovelace", "lang", "C & C++", "city", "Z\xc3\xbcrich",
    };
    const char *const *fields = default_fields;
    int field_count = 3;
    struct completion completion = {0};
    struct nethttp_form *form;
    struct nethttp_options *options;
    struct nethttp_request *request;
    char *body;
    size_t body_len = 0;

    if (argc < 2 || argc % 2 != 0) {
        fprintf(stderr, "usage: %s URL [NAME VALUE]...\n", argv[0]);
        return 2;
    }
    if (argc > 2) {
        fields = (const char *const *)&argv[2];
        field_count = (argc - 2) / 2;
    }

    /* Build the form; duplicates and order are kept, as in Prosody. */
    form = nethttp_form_new();
    if (form == NULL) {
        return 1;
    }
    for (int i = 0; i < field_count; i++) {
        if (!add_field(form, fields[2 * i], fields[2 * i + 1])) {
            nethttp_form_free(form);
            return 2;
        }
    }
    body = nethttp_formencode(form, &body_len);
    nethttp_form_free(form);
    if (body == NULL) {
        fprintf(stderr, "nethttp_formencode: %s\n", nethttp_last_error());
        return 1;
    }
    printf("POST %s\n%s\n\n", argv[1], body);

    /* nethttp_formdecode() reverses it. */
    form = nethttp_formdecode(body, body_len);
    if (form != NULL && nethttp_form_count(form) > 0) {
        const char *name;
        const char *value;
        nethttp_form_field(form, 0, &name, NULL, &value, NULL);
        printf("decoded back: %zu fields, the first is %s = %s\n\n", nethttp_form_count(form), name, value);
    }
    nethttp_form_free(form);

    /* A body makes the request a POST with Content-Type
     * application/x-www-form-urlencoded; the options copy the body. */
    options = nethttp_options_new();
    nethttp_options_set_body(options, body, body_len);
    nethttp_options_set_timeout_ms(options, 30000);
    nethttp_free(body);

    pthread_mutex_init(&completion.lock, NULL);
    pthread_cond_init(&completion.cond, NULL);
    request = nethttp_request(argv[1], options, on_response, &completion);
    nethttp_options_free(options);
    if (request == NULL) {
        fprintf(stderr, "cannot post to %s: %s\n", argv[1], nethttp_last_error());
        return 2;
    }
    pthread_mutex_lock(&completion.lock);
    while (!completion.finished) {
        pthread_cond_wait(&completion.cond, &completion.lock);
    }
    pthread_mutex_unlock(&completion.lock);

    nethttp_shutdown();
    pthread_cond_destroy(&completion.cond);
    pthread_mutex_destroy(&completion.lock);
    return completion.status >= 200 && completion.status < 300 ? 0 : 1;
}
