#!/bin/sh
# Regenerates the certificates and keys of the transport and TLS tests (run
# once; the files are committed). Leaf certificates are issued by cert.pem /
# key.pem, the test CA that the tests pass as CURLOPT_CAINFO and that the
# test server's mutual-TLS listener trusts for client certificates:
#   example-test.pem / example-test-key.pem   server certificate, SAN
#                                  DNS:example.test only (the host that
#                                  nethttp_options_set_resolve() pins)
#   client.pem / client-key.pem    client certificate, CN nethttp-test-client,
#                                  extendedKeyUsage clientAuth
#   client-combined.pem            client.pem and client-key.pem in one file
#   client-other-key.pem           a key that does not belong to client.pem
#   rogue-client.pem / rogue-client-key.pem
#                                  a self-signed client certificate (CN
#                                  nethttp-rogue-client) that the server
#                                  does not trust
#   cert.pin                       the sha256// pin of cert.pem's public key
# All valid from 2000-01-01 for 36500 days.
set -eu
cd "$(dirname "$0")"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
export T
cat > "$T/ca.cnf" <<'CNF'
[ca]
default_ca = test_ca
[test_ca]
database = $ENV::T/index.txt
new_certs_dir = $ENV::T
serial = $ENV::T/serial
default_md = sha256
policy = policy_any
copy_extensions = none
unique_subject = no
[policy_any]
commonName = supplied
[v3_example]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:example.test
[v3_client]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = clientAuth
[v3_rogue]
basicConstraints = critical, CA:TRUE
keyUsage = critical, digitalSignature, keyEncipherment, keyCertSign
extendedKeyUsage = clientAuth
CNF
touch "$T/index.txt"
echo 20 > "$T/serial"
openssl req -new -newkey rsa:2048 -nodes -keyout example-test-key.pem \
    -subj /CN=example.test -out "$T/example.csr"
openssl ca -batch -notext -config "$T/ca.cnf" -cert cert.pem -keyfile key.pem \
    -in "$T/example.csr" -out example-test.pem -extensions v3_example \
    -startdate 20000101000000Z -days 36500
openssl req -new -newkey rsa:2048 -nodes -keyout client-key.pem \
    -subj /CN=nethttp-test-client -out "$T/client.csr"
openssl ca -batch -notext -config "$T/ca.cnf" -cert cert.pem -keyfile key.pem \
    -in "$T/client.csr" -out client.pem -extensions v3_client \
    -startdate 20000101000000Z -days 36500
cat client.pem client-key.pem > client-combined.pem
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out client-other-key.pem
openssl req -new -newkey rsa:2048 -nodes -keyout rogue-client-key.pem \
    -subj /CN=nethttp-rogue-client -out "$T/rogue.csr"
openssl ca -batch -notext -selfsign -config "$T/ca.cnf" -keyfile rogue-client-key.pem \
    -in "$T/rogue.csr" -out rogue-client.pem -extensions v3_rogue \
    -startdate 20000101000000Z -days 36500
printf 'sha256//%s\n' "$(openssl x509 -in cert.pem -pubkey -noout |
    openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | openssl base64 -A)" > cert.pin
