/* Links nethttp as a package gives it (Conan, the .deb), and checks what
 * needs no network: the version, the features of the libcurl it runs on,
 * and an encoding function. Exits 0 when all is well. */
#include <nethttp.h>

#include <stdio.h>
#include <string.h>

int main(void) {
    size_t len = 0;
    char *encoded = nethttp_urlencode("a b&c", 5, &len);
    int ok = encoded != NULL && strcmp(encoded, "a%20b%26c") == 0 && len == 9 &&
             strcmp(nethttp_version(), NETHTTP_VERSION) == 0 && strstr(nethttp_features(), "http2") != NULL;
    printf("nethttp %s, features: %s, urlencode: %s -> %s\n", nethttp_version(), nethttp_features(),
           encoded != NULL ? encoded : "(null)", ok ? "ok" : "FAILED");
    nethttp_free(encoded);
    return ok ? 0 : 1;
}
