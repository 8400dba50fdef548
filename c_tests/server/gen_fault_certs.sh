#!/bin/sh
# Regenerates the certificates of test_server.py's extra HTTPS listeners
# (run once; the files are committed). Both are leaf certificates issued by
# cert.pem / key.pem (the test CA that the tests pass as CURLOPT_CAINFO), so
# each fails verification for exactly one reason:
#   expired.pem / expired-key.pem      SAN DNS:localhost, IP:127.0.0.1,
#                                      IP:::1, valid 2000-01-01 .. 2001-01-01
#   wronghost.pem / wronghost-key.pem  SAN DNS:wrong-host.example only,
#                                      valid 2000-01-01 .. now + 36500 days
# `openssl ca` is used because `openssl x509 -req` (OpenSSL 3.0) cannot set
# the start and end dates.
set -eu
cd "$(dirname "$0")"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
export T
cat > "$T/ca.cnf" <<'EOF'
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
[v3_expired]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1, IP:::1
[v3_wronghost]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:wrong-host.example
EOF
touch "$T/index.txt"
echo 10 > "$T/serial"
openssl req -new -newkey rsa:2048 -nodes -keyout expired-key.pem \
    -subj /CN=expired.localhost -out "$T/expired.csr"
openssl ca -batch -notext -config "$T/ca.cnf" -cert cert.pem -keyfile key.pem \
    -in "$T/expired.csr" -out expired.pem -extensions v3_expired \
    -startdate 20000101000000Z -enddate 20010101000000Z
openssl req -new -newkey rsa:2048 -nodes -keyout wronghost-key.pem \
    -subj /CN=wrong-host.example -out "$T/wronghost.csr"
openssl ca -batch -notext -config "$T/ca.cnf" -cert cert.pem -keyfile key.pem \
    -in "$T/wronghost.csr" -out wronghost.pem -extensions v3_wronghost \
    -startdate 20000101000000Z -days 36500
