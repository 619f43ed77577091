#!/bin/sh
# The certificate keeper of proxy.tls.mode acme: one container beside the proxy, in the port
# holder's network namespace, with the proxy's state volume.
#   acme-keeper run            issue the certificate over ACME (HTTP-01), then check every
#                              ACME_CHECK_SECONDS and renew ACME_RENEW_DAYS before expiry
#   acme-keeper renew --force  renew now, whatever the expiry (the operator's, and the tests')
# HTTP-01: lego answers the challenge on 127.0.0.1:8402; the proxy sends
# /.well-known/acme-challenge/ there (backend zdt_acme). Each new certificate is written
# into the proxy's certificate folder (the next start loads it) and put in place in the
# running proxy through HAProxy's runtime API (set ssl cert, commit ssl cert): no reload,
# no connection closed. A failed attempt changes nothing the proxy serves; it is written to
# the status file, which the status view, the release report and the issuance gate read.
# Settings (contracts/acmeKeeperContract.ts): ACME_DIRECTORY ACME_EMAIL ACME_DOMAINS
# ACME_RENEW_DAYS ACME_CHECK_SECONDS ACME_RETRY_SECONDS ACME_TIMEOUT_SECONDS ACME_CA_BUNDLE_BASE64.
# The account key is written by the Pulumi program (a secret) to $DIR/account.key.
set -u
STATE=/var/lib/zdt
DIR=$STATE/acme
STATUS=$DIR/status
CERT=$STATE/tls/edge.pem
SOCKET=$STATE/handover.sock
CHALLENGE=127.0.0.1:8402
FIRST=${ACME_DOMAINS%% *}

mkdir -p "$DIR" && chmod 700 "$DIR"
if [ -n "${ACME_CA_BUNDLE_BASE64:-}" ]; then
  printf '%s' "$ACME_CA_BUNDLE_BASE64" | base64 -d > "$DIR/ca.pem"
  export LEGO_CA_CERTIFICATES="$DIR/ca.pem"
fi

# key=value lines, replaced whole (a reader never sees half of one).
status() { # result message
  {
    echo "attempt=$(date -u +%s)"
    echo "result=$1"
    echo "message=$(printf '%s' "$2" | tr '\n\r' '  ' | cut -c1-400)"
    if [ -s "$DIR/certificates/$FIRST.crt" ]; then
      echo "serial=$(openssl x509 -noout -serial -in "$DIR/certificates/$FIRST.crt" | sed 's/^serial=//')"
      echo "notAfter=$(openssl x509 -noout -enddate -in "$DIR/certificates/$FIRST.crt" | sed 's/^notAfter=//')"
    fi
  } > "$STATUS.new" && mv "$STATUS.new" "$STATUS"
}

# lego finds the account key where it keeps accounts: accounts/<server host, ':' as '_'>/<email>/keys/<email>.key
place_account_key() {
  [ -s "$DIR/account.key" ] || return 0
  server=$(printf '%s' "$ACME_DIRECTORY" | sed -e 's#^[a-z]*://##' -e 's#/.*##' -e 's#:#_#g')
  keys="$DIR/accounts/$server/$ACME_EMAIL/keys"
  mkdir -p "$keys" && cp "$DIR/account.key" "$keys/$ACME_EMAIL.key" && chmod 600 "$keys/$ACME_EMAIL.key"
}

# Runs lego (bounded); its last lines in $DIR/lego.log; its exit status.
lego_run() { # verb [flags]
  domains=""
  for d in $ACME_DOMAINS; do domains="$domains --domains $d"; done
  # shellcheck disable=SC2086
  timeout "${ACME_TIMEOUT_SECONDS:-120}" lego --server "$ACME_DIRECTORY" --email "$ACME_EMAIL" --accept-tos \
    --path "$DIR" --key-type ec256 --http --http.port "$CHALLENGE" $domains "$@" > "$DIR/lego.out" 2>&1
  rc=$?
  tail -n 40 "$DIR/lego.out" > "$DIR/lego.log"; rm -f "$DIR/lego.out"
  [ "$rc" = 124 ] && echo "no answer within ${ACME_TIMEOUT_SECONDS:-120}s" >> "$DIR/lego.log"
  return "$rc"
}

serial_of_file() { openssl x509 -noout -serial -in "$1" 2>/dev/null | sed 's/^serial=//' | tr 'a-f' 'A-F' | sed 's/^0*//'; }
served_serial() {
  printf 'show ssl cert %s\n' "$CERT" | socat -t 5 stdio "UNIX-CONNECT:$SOCKET" 2>/dev/null |
    sed -n 's/^Serial: *//p' | tr -d ':' | tr 'a-f' 'A-F' | sed 's/^0*//'
}

# The issued certificate into the proxy: the file first (a proxy that starts later loads it),
# then the running proxy through its runtime API.
install() {
  umask 077
  cat "$DIR/certificates/$FIRST.crt" "$DIR/certificates/$FIRST.key" > "$DIR/edge.pem.new" || return 1
  mkdir -p "$STATE/tls" && mv "$DIR/edge.pem.new" "$CERT"
  [ -S "$SOCKET" ] || return 0
  answer=$( { printf 'set ssl cert %s <<\n' "$CERT"; cat "$CERT"; printf '\n'; } | socat -t 5 stdio "UNIX-CONNECT:$SOCKET" 2>&1)
  case "$answer" in
    *"Transaction created"* | *"Transaction updated"*) ;;
    *) printf 'abort ssl cert %s\n' "$CERT" | socat -t 5 stdio "UNIX-CONNECT:$SOCKET" >/dev/null 2>&1
       echo "the proxy refused the certificate: $answer"; return 1 ;;
  esac
  answer=$(printf 'commit ssl cert %s\n' "$CERT" | socat -t 5 stdio "UNIX-CONNECT:$SOCKET" 2>&1)
  case "$answer" in
    *Success*) return 0 ;;
    *) printf 'abort ssl cert %s\n' "$CERT" | socat -t 5 stdio "UNIX-CONNECT:$SOCKET" >/dev/null 2>&1
       echo "the proxy could not commit the certificate: $answer"; return 1 ;;
  esac
}

# One attempt: issue (no certificate yet) or renew (when due, or forced), then make sure the
# proxy serves what lego holds. Returns non-zero on failure, having said why in the status.
attempt() { # [days]
  days=${1:-$ACME_RENEW_DAYS}
  place_account_key
  # A new certificate when the host names changed (renew keeps the old names).
  verb=issuance
  if [ -s "$DIR/certificates/$FIRST.crt" ]; then
    held=$(openssl x509 -noout -ext subjectAltName -in "$DIR/certificates/$FIRST.crt" 2>/dev/null | tr ',' '\n' | sed -n 's/^ *DNS://p' | sort | tr '\n' ' ')
    wanted=$(printf '%s\n' $ACME_DOMAINS | sort | tr '\n' ' ')
    [ "$held" = "$wanted" ] && verb=renewal
  fi
  if [ "$verb" = renewal ]; then lego_run renew --days "$days" --no-random-sleep; else lego_run run; fi
  rc=$?
  if [ "$rc" != 0 ] || ! [ -s "$DIR/certificates/$FIRST.crt" ]; then
    status failed "$verb failed (lego exit $rc): $(grep -vE '^\s*$' "$DIR/lego.log" | tail -n 3)"
    return 1
  fi
  if [ "$(serial_of_file "$DIR/certificates/$FIRST.crt")" != "$(served_serial)" ]; then
    if ! why=$(install); then
      status failed "the issued certificate could not be put in place: $why"
      return 1
    fi
    status ok "serving the certificate of the last $verb"
    return 0
  fi
  status ok "checked, no renewal due: $(grep -oiE 'certificate expires in [0-9]+ days' "$DIR/lego.log" | tail -n 1)"
}

locked() { flock -w "${ACME_TIMEOUT_SECONDS:-120}" "$DIR/lock" "$0" "$@"; }

case "${1:-run}" in
  run)
    trap 'exit 0' TERM INT
    while :; do
      if locked attempt-now; then wait_for=$ACME_CHECK_SECONDS; else wait_for=${ACME_RETRY_SECONDS:-60}; fi
      sleep "$wait_for" &
      wait $!
    done
    ;;
  attempt-now) attempt ;;
  forced-now) attempt 100000 ;;
  renew)
    [ "${2:-}" = --force ] || { echo "usage: acme-keeper renew --force" >&2; exit 2; }
    locked forced-now
    rc=$?
    cat "$STATUS"
    exit "$rc"
    ;;
  status) cat "$STATUS" 2>/dev/null ;;
  *)
    echo "usage: acme-keeper [run|renew --force|status]" >&2
    exit 2
    ;;
esac
