#!/usr/bin/env bash
# mkcerts.sh DIR - test PKI for wsc's TLS tests (EC P-256, OpenSSL 3.0).
# Creates in DIR:
#   ca.pem ca.key                  a test CA
#   server.pem server.key          from the CA, SAN DNS:localhost, IP:127.0.0.1, IP:::1
#   wrong-host.pem wrong-host.key  from the CA, SAN DNS:example.invalid only
#   self-signed.pem self-signed.key  self-signed (not from the CA), SAN as server
#   expired.pem expired.key        from the CA, SAN as server, valid only in 2020
#   client.pem client.key          client certificate from the CA (mutual TLS)
# Idempotent (does nothing when all files exist), safe to run concurrently on
# the same DIR (flock), prints nothing on success.
set -euo pipefail

dir=${1:?usage: mkcerts.sh DIR}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
files=(ca server wrong-host self-signed expired client)

all_present() {
  local f
  for f in "${files[@]}"; do
    [ -s "$dir/$f.pem" ] && [ -s "$dir/$f.key" ] || return 1
  done
}
all_present && exit 0

exec 9>"$dir/.mkcerts.lock"
flock -w 60 9 || { echo "mkcerts.sh: could not lock $dir" >&2; exit 1; }
all_present && exit 0

work=$(mktemp -d "$dir/.mkcerts.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work"

log=$work/openssl.log
ossl() {
  if ! openssl "$@" >>"$log" 2>&1; then
    echo "mkcerts.sh: openssl $1 failed:" >&2
    cat "$log" >&2
    exit 1
  fi
}
key() { ossl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1.key"; }
serial() { echo "0x$(openssl rand -hex 8)"; }

san_server='subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1'
cat >leaf.ext <<EOF
[server]
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid,issuer
$san_server
[wrong]
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid,issuer
subjectAltName=DNS:example.invalid
[client]
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=clientAuth
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid,issuer
EOF

# The CA.
key ca
ossl req -new -x509 -key ca.key -out ca.pem -days 3650 -sha256 -set_serial "$(serial)" \
  -subj "/O=wsc tests/CN=wsc test CA" \
  -addext "basicConstraints=critical,CA:TRUE" \
  -addext "keyUsage=critical,keyCertSign,cRLSign" \
  -addext "subjectKeyIdentifier=hash"

# Leaves signed by the CA: name, subject CN, extension section.
sign() {
  key "$1"
  ossl req -new -key "$1.key" -out "$1.csr" -subj "/O=wsc tests/CN=$2"
  ossl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca.key -set_serial "$(serial)" \
    -days 3650 -sha256 -extfile leaf.ext -extensions "$3" -out "$1.pem"
}
sign server localhost server
sign wrong-host example.invalid wrong
sign client wsc-test-client client

# Self-signed, with the right names but no trusted issuer.
key self-signed
ossl req -new -x509 -key self-signed.key -out self-signed.pem -days 3650 -sha256 \
  -set_serial "$(serial)" -subj "/O=wsc tests/CN=localhost" \
  -addext "basicConstraints=critical,CA:FALSE" \
  -addext "keyUsage=critical,digitalSignature" \
  -addext "extendedKeyUsage=serverAuth" \
  -addext "$san_server"

# Expired: `openssl ca` is the 3.0 way to set explicit validity dates.
key expired
ossl req -new -key expired.key -out expired.csr -subj "/O=wsc tests/CN=localhost"
: >index.txt
cat >ca.cnf <<EOF
[ca]
default_ca = testca
[testca]
database = $work/index.txt
new_certs_dir = $work
rand_serial = yes
default_md = sha256
policy = anything
unique_subject = no
copy_extensions = none
[anything]
organizationName = optional
commonName = supplied
EOF
ossl ca -batch -config ca.cnf -cert ca.pem -keyfile ca.key -in expired.csr -out expired.pem \
  -notext -startdate 20200101000000Z -enddate 20200102000000Z \
  -extfile leaf.ext -extensions server

# Sanity: the good ones verify, the expired one is expired.
ossl verify -CAfile ca.pem server.pem wrong-host.pem client.pem
if openssl verify -CAfile ca.pem expired.pem >/dev/null 2>&1; then
  echo "mkcerts.sh: expired.pem unexpectedly verifies" >&2; exit 1
fi
if openssl x509 -in expired.pem -noout -checkend 0 >/dev/null 2>&1; then
  echo "mkcerts.sh: expired.pem is not expired" >&2; exit 1
fi

chmod 600 ./*.key
for f in "${files[@]}"; do
  mv -f "$f.key" "$dir/$f.key"
  mv -f "$f.pem" "$dir/$f.pem"
done
