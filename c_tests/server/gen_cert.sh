#!/bin/sh
# Regenerates cert.pem / key.pem for test_server.py (run once; both files are
# committed).  Self-signed RSA-2048, CN=localhost, SAN DNS:localhost,
# IP:127.0.0.1, IP:::1, CA:TRUE so the same file works as CURLOPT_CAINFO.
# notBefore is back-dated to 2000 so a machine with a clock that lags the one
# the certificate was made on still accepts it; notAfter is now + 36500 days.
# `openssl ca` is used only because `openssl req -x509` (OpenSSL 3.0) cannot
# set the start date.
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
[policy_any]
commonName = supplied
[v3_server]
basicConstraints = critical, CA:TRUE
keyUsage = critical, digitalSignature, keyEncipherment, keyCertSign
subjectAltName = DNS:localhost, IP:127.0.0.1, IP:::1
subjectKeyIdentifier = hash
EOF
touch "$T/index.txt"
echo 01 > "$T/serial"
openssl req -new -newkey rsa:2048 -nodes -keyout key.pem \
    -subj /CN=localhost -out "$T/req.csr"
openssl ca -batch -notext -selfsign -config "$T/ca.cnf" -keyfile key.pem \
    -in "$T/req.csr" -out cert.pem -extensions v3_server \
    -startdate 20000101000000Z -days 36500
