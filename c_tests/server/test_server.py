#!/usr/bin/env python3
"""Local HTTP + HTTPS test server for the nethttp C tests and benchmarks.

Python standard library only.  Usage:

  test_server.py serve [--port-file F] [--pid-file P]   run in the foreground
  test_server.py start --port-file F [--pid-file P] [--log L]
                                                       start detached, wait
                                                       until listening, exit 0
  test_server.py stop --port-file F [--pid-file P]     SIGTERM the detached
                                                       server, remove files

Common options: --max-lifetime SECONDS (default 1800; the server exits by
itself after that, 0 = no limit) and --verbose (log every request).

The port file holds one line
"HTTP_PORT HTTPS_PORT EXPIRED_PORT WRONGHOST_PORT MTLS_PORT TLS12_PORT
EXAMPLE_PORT PROXY_PORT ALT_HTTP_PORT\\n"; read the fields you need from the
left (more may be appended, never reordered).  HTTP_PORT and HTTPS_PORT
bind 127.0.0.1 on ephemeral ports (and ::1 on the same ports when
possible); the other listeners bind 127.0.0.1 only.  The extra HTTPS listeners serve the same
endpoints:
  EXPIRED_PORT    with expired.pem (expired in 2001), which fails
                  verification against cert.pem
  WRONGHOST_PORT  with wronghost.pem (valid, but only for
                  DNS:wrong-host.example)
  MTLS_PORT       with cert.pem, requiring a client certificate issued by
                  cert.pem (client.pem is one); after a failed handshake it
                  reads until the client closes, so the client reads the
                  server's alert instead of a reset
  TLS12_PORT      with cert.pem, TLS 1.2 at most
  EXAMPLE_PORT    with example-test.pem (valid only for DNS:example.test)
PROXY_PORT is a forwarding HTTP proxy (see "Proxy" below).  ALT_HTTP_PORT
is a second plain HTTP listener (127.0.0.1 only) with the same endpoints:
another origin on the same host, for redirect tests.  The server also
serves plain HTTP on a Unix socket in a directory of its own under the
temporary directory; its path is written to F + ".unix" before the port
file.  The pid file defaults to F + ".pid".

Endpoints (every method is accepted everywhere, HEAD gets headers only):
  /echo, /echo/...           request line, header lines and body, verbatim
  /status/N                  status N (200..599), body "status N"
  /delay/MS, /hold?ms=MS     sleep MS ms, then body "delayed MS"
  /bytes/N[?tag=T]           N bytes, byte i = (i * 7 + 3) % 256; with a
                             tag, the bytes handed to the kernel so far are
                             added up per tag (see /sent)
  /sent?tag=T                "sent N": bytes of /bytes?tag=T sent so far (a
                             client that stops reading stops this growing)
  /chunked/N[?chunk=SIZE]    same bytes, Transfer-Encoding: chunked
  /redirect?to=URL[&status=S]
                             S (default 302, 300..399) to URL (default /echo)
  /redirect/K                302 to /redirect/K-1, /redirect/0 -> /echo
  /conn                      "conn ID", ID unique per TCP connection
  /close-early               Content-Length 1000, 10 bytes sent, then close
  /close-no-response         close without answering
  /header?name=N&value=V     extra header "N: V" plus two "X-Multi" lines
  /stats                     "requests R connections C"
  /trickle?bytes=N&ms=M      Content-Length N (default 100), the first byte
                             at once, then one byte every M ms (default 100):
                             a body that is still arriving
  /track?tag=T&ms=M          counts the requests with tag T being served at
                             once, sleeps M ms, then answers "conn ID peak P":
                             ID as for /conn, P the most requests with tag T
                             served at once so far (so the largest P over a
                             batch of requests is the batch's concurrency)
  /digest                    reads the request body as it arrives (never
                             holding it: bodies of any size), then answers
                             "bytes N sha256 HEX chunked yes|no pattern
                             yes|no" (pattern: the body is the /bytes
                             stream)
  /flaky?key=K&fail=N&mode=M[&retry_after=S]
                             the first N (default 1) requests with key K
                             fail, later ones get 200 "ok after N"; mode
                             "close" (default) closes the connection without
                             a response, "503" and "429" answer that status
                             (body "busy I"), with "Retry-After: S" when
                             given
  /count?key=K               "count N": requests /flaky got with key K
  /cookie/set?c=V[&c=V2...]  200 "set N" with one "Set-Cookie: V" per c
                             (V percent-encoded: "a=1; Max-Age=0" ...)
  /cookie/echo               as /echo (within the default cookie path of
                             /cookie/set, which is /cookie)
  /encoded?enc=E             the first 100,000 bytes of the /bytes stream in
                             encoding E, whatever the request accepts: E one
                             of identity, gzip, deflate (zlib format), br,
                             zstd (br and zstd from encoded/, made by
                             encoded/make_encoded.py); the request's
                             Accept-Encoding is echoed in X-Accept-Encoding
                             ("none" when absent)
  /gzip-zeros?mib=N          chunked, Content-Encoding: gzip, N MiB of zeros
                             (about 1 KiB of gzip per MiB, made from a
                             periodic deflate stream: neither compressed nor
                             held per request)
  /client-cert               CN of the client certificate of this TLS
                             connection, or "none"
  /tls-version               the TLS version of this connection
                             ("TLSv1.3", ...), or "none"
  anything else              404 "not found"
A malformed argument (e.g. /status/abc) gets 400 "bad argument: ...".

Fault endpoints (each answers once, then closes the connection unless noted):
  /fault/reset               Content-Length 1000, 10 bytes, then a TCP RST
                             (SO_LINGER 0) instead of a FIN
  /fault/chunked-truncated   chunked: one 10-byte chunk, the first bytes of a
                             100-byte chunk, then close
  /fault/bad-chunk-size      chunked: a chunk size "zz" (not hex); the
                             connection then stays open until the client
                             closes it
  /fault/garbage-status      "HELLO WORLD" instead of a status line
  /fault/headers-1mib        status line and 1 MiB of headers (1024 lines of
                             1 KiB) sent in one block, then body "ok"
  /fault/headers-100k        100,000 headers "X-N: n", then body "ok"
  /fault/header-200kib       one header line of 200 KiB, then body "ok"
  /fault/trickle?ms=MS&n=N   Content-Length N (default 100), one byte every
                             MS ms (default 100), the /bytes pattern
  /fault/never               reads the request, never answers; returns when
                             the client goes (or after the idle timeout)
  /fault/length-short        Content-Length 5, then 15 body bytes
                             "0123456789abcde"; the connection stays open
                             (no "Connection: close")
  /fault/http10?n=N          "HTTP/1.0 200 OK" without Content-Length or
                             Connection headers, N bytes of the /bytes
                             pattern (default 100000), then close
  /fault/header-nul          a header "X-Nul: a<NUL>b", then body "ok"
  /close-early (above) is the Content-Length-larger-than-sent case and
  /close-no-response the close-before-headers case.

Proxy (PROXY_PORT): one request per connection, to loopback targets only
(127.0.0.1, ::1, localhost):
  GET http://HOST:PORT/PATH  forwarded as "GET /PATH" with "Connection: close"
                             (Proxy-Authorization and Proxy-Connection
                             dropped); the answer is relayed until the
                             target closes
  CONNECT HOST:PORT          "200 Connection established", then bytes are
                             relayed both ways (a TLS tunnel)
  GET /proxy/log             what the proxy saw so far, one line per request:
                             "METHOD TARGET auth=VALUE" (VALUE the
                             Proxy-Authorization header, or "-")
  GET /proxy/clear           forgets the log
A Proxy-Authorization other than Basic for puser:psecret gets 407 (a request
without one is let through).

expired*.pem and wronghost*.pem were made by gen_fault_certs.sh; the
certificates of the transport tests (example-test*.pem, client*.pem,
rogue-client*.pem, cert.pin) by gen_transport_certs.sh (leaf
certificates issued by cert.pem).
cert.pem / key.pem were made by gen_cert.sh in this directory, i.e.
  openssl req -new -newkey rsa:2048 -nodes -keyout key.pem -subj /CN=localhost
  openssl ca -selfsign -extensions v3_server -startdate 20000101000000Z
      -days 36500 ...   (v3_server: CA:TRUE, SAN DNS:localhost, IP:127.0.0.1,
                         IP:::1; see gen_cert.sh for the exact config)
"""

import argparse
import base64
import hashlib
import http
import logging
import os
import queue
import resource
import signal
import socket
import ssl
import struct
import select
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from urllib.parse import parse_qs

HERE = os.path.dirname(os.path.abspath(__file__))
CERT_FILE = os.path.join(HERE, "cert.pem")
KEY_FILE = os.path.join(HERE, "key.pem")
EXPIRED_CERT_FILE = os.path.join(HERE, "expired.pem")
EXPIRED_KEY_FILE = os.path.join(HERE, "expired-key.pem")
WRONGHOST_CERT_FILE = os.path.join(HERE, "wronghost.pem")
WRONGHOST_KEY_FILE = os.path.join(HERE, "wronghost-key.pem")
EXAMPLE_CERT_FILE = os.path.join(HERE, "example-test.pem")
EXAMPLE_KEY_FILE = os.path.join(HERE, "example-test-key.pem")
PROXY_USER, PROXY_PASSWORD = "puser", "psecret"
PROXY_TARGETS = ("127.0.0.1", "::1", "[::1]", "localhost")
ALERT_DRAIN_TIMEOUT = 5.0    # seconds a refused mTLS client may keep reading

LISTEN_BACKLOG = 4096
HANDSHAKE_TIMEOUT = 10.0     # seconds for a TLS handshake
IDLE_TIMEOUT = 300.0         # seconds a socket operation may block
MAX_LINE = 1 << 20           # longest request/header line accepted
MAX_HEADERS = 10000
MAX_BYTES = 1 << 32          # cap for /bytes and /chunked
MAX_DELAY_MS = 3600 * 1000
THREAD_STACK = 512 * 1024    # keeps thousands of connection threads cheap
WORKER_IDLE_EXIT = 60.0      # seconds an idle pooled thread lingers
WANT_FDS = 65536             # soft RLIMIT_NOFILE to aim for
START_TIMEOUT = 10.0
STOP_TIMEOUT = 5.0
DEFAULT_MAX_LIFETIME = 1800.0

TEXT = "text/plain"
OCTET = "application/octet-stream"
CRLF = b"\r\n"

log = logging.getLogger("test_server")


# --------------------------------------------------------------------------
# Counters and the /bytes pattern

class Stats:
    """Request and connection counters shared by all listeners."""

    def __init__(self):
        self._lock = threading.Lock()
        self.requests = 0
        self.connections = 0

    def new_connection(self):
        with self._lock:
            self.connections += 1
            return self.connections

    def new_request(self):
        with self._lock:
            self.requests += 1

    def snapshot(self):
        with self._lock:
            return self.requests, self.connections


STATS = Stats()


class Gauges:
    """Requests served at once per /track tag, and the most seen."""

    def __init__(self):
        self._lock = threading.Lock()
        self._active = {}
        self._peak = {}

    def enter(self, tag):
        with self._lock:
            active = self._active.get(tag, 0) + 1
            self._active[tag] = active
            self._peak[tag] = max(self._peak.get(tag, 0), active)

    def leave(self, tag):
        """Leave; returns the tag's peak so far."""
        with self._lock:
            self._active[tag] -= 1
            return self._peak[tag]


GAUGES = Gauges()


class Tally:
    """Numbers per key shared by all connections: bytes of /bytes sent so
    far per tag (/sent), requests per /flaky key (/count)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._values = {}

    def add(self, key, n):
        """Adds n to key's number; returns the new number."""
        with self._lock:
            value = self._values.get(key, 0) + n
            self._values[key] = value
            return value

    def get(self, key):
        with self._lock:
            return self._values.get(key, 0)


SENT = Tally()
FLAKY = Tally()

# The pattern repeats every 256 bytes, so one block (a multiple of 256) plus
# one extra period serves any slice of up to BLOCK bytes at any offset.
PERIOD = bytes((i * 7 + 3) % 256 for i in range(256))
BLOCK = 256 * 1024
PATTERN = memoryview(PERIOD * (BLOCK // 256 + 1))


def pattern(offset, n):
    """Bytes [offset, offset + n) of the /bytes stream, n <= BLOCK."""
    start = offset % 256
    return PATTERN[start:start + n]


# --------------------------------------------------------------------------
# Request parsing

class BadRequest(Exception):
    """Malformed message: answer 400 and close (the stream may be out of
    sync)."""


class BadArgument(Exception):
    """Bad endpoint argument: answer 400 but keep the connection."""


class PeerClosed(Exception):
    """The client went away in the middle of a request."""


class Request:
    def __init__(self, raw_line, header_lines):
        self.raw_line = raw_line            # request line as received
        self.header_lines = header_lines    # header lines as received
        method, target, version = (
            part.decode("latin-1") for part in raw_line.split())
        self.method = method
        self.version = version
        if "://" in target:                 # absolute form: keep path+query
            target = "/" + target.split("://", 1)[1].partition("/")[2]
        self.path, _, self.query = target.partition("?")
        self.headers = parse_headers(header_lines)
        self.body = b""

    def header(self, name, default=None):
        return self.headers.get(name.lower(), default)

    def arg(self, name, default=None):
        # latin-1 keeps every percent-decoded byte encodable in a header.
        values = parse_qs(self.query, keep_blank_values=True,
                          encoding="latin-1").get(name)
        return values[0] if values else default


def parse_headers(lines):
    """Map lower-case names to values; repeated headers are comma-joined."""
    headers = {}
    last = None
    for raw in lines:
        line = raw.decode("latin-1")
        if line[:1] in (" ", "\t") and last:  # obsolete line folding
            headers[last] += " " + line.strip()
            continue
        name, sep, value = line.partition(":")
        if not sep or not name or name != name.strip():
            raise BadRequest("malformed header line")
        last = name.lower()
        value = value.strip()
        if last in headers:
            value = headers[last] + ", " + value
        headers[last] = value
    return headers


def is_decimal(text):
    # isdigit() alone also accepts e.g. "\xb2" (superscript two).
    return text is not None and text.isascii() and text.isdigit()


def read_line(rfile):
    line = rfile.readline(MAX_LINE + 1)
    if len(line) > MAX_LINE:
        raise BadRequest("line too long")
    return line


def strip_eol(line):
    if line.endswith(CRLF):
        return line[:-2]
    return line[:-1] if line.endswith(b"\n") else line


def is_blank(line):
    return line in (CRLF, b"\n")


def read_request_head(rfile):
    """Read request line and headers; None on a clean EOF between requests."""
    line = read_line(rfile)
    while is_blank(line):       # stray CRLF after a body (RFC 9112 2.2)
        line = read_line(rfile)
    if not line:
        return None
    if not line.endswith(b"\n"):
        raise PeerClosed("EOF inside the request line")
    raw_line = strip_eol(line)
    parts = raw_line.split()
    if len(parts) != 3 or not parts[2].startswith(b"HTTP/"):
        raise BadRequest("malformed request line")
    header_lines = []
    while True:
        line = read_line(rfile)
        if is_blank(line):
            break
        if not line.endswith(b"\n"):
            raise PeerClosed("EOF inside the headers")
        if len(header_lines) >= MAX_HEADERS:
            raise BadRequest("too many headers")
        header_lines.append(strip_eol(line))
    return Request(raw_line, header_lines)


def read_exact(rfile, n):
    data = rfile.read(n)
    if len(data) != n:
        raise PeerClosed("EOF inside the body")
    return data


def read_chunked_body(rfile):
    parts = []
    while True:
        size_field = strip_eol(read_line(rfile)).split(b";", 1)[0].strip()
        if not size_field or size_field.strip(b"0123456789abcdefABCDEF"):
            raise BadRequest("bad chunk size")
        size = int(size_field, 16)
        if size == 0:
            break
        parts.append(read_exact(rfile, size))
        if not is_blank(read_line(rfile)):
            raise BadRequest("missing CRLF after chunk data")
    while True:                 # trailer fields are read and dropped
        line = read_line(rfile)
        if is_blank(line):
            return b"".join(parts)
        if not line:
            raise PeerClosed("EOF inside the trailers")


def read_chunked_pieces(rfile):
    """The data of a chunked body, a piece at a time (trailers dropped)."""
    while True:
        size_field = strip_eol(read_line(rfile)).split(b";", 1)[0].strip()
        if not size_field or size_field.strip(b"0123456789abcdefABCDEF"):
            raise BadRequest("bad chunk size")
        size = int(size_field, 16)
        if size == 0:
            break
        while size:
            piece = read_exact(rfile, min(size, BLOCK))
            size -= len(piece)
            yield piece
        if not is_blank(read_line(rfile)):
            raise BadRequest("missing CRLF after chunk data")
    while True:
        line = read_line(rfile)
        if is_blank(line):
            return
        if not line:
            raise PeerClosed("EOF inside the trailers")


def body_length(req):
    """'chunked', a byte count, or 0 when the request has no body."""
    if "chunked" in req.header("transfer-encoding", "").lower():
        return "chunked"
    value = req.header("content-length")
    if value is None:
        return 0
    if not is_decimal(value):
        raise BadRequest("bad Content-Length")
    return int(value)


def wants_keep_alive(req):
    tokens = req.header("connection", "").lower()
    if req.version == "HTTP/1.0":
        return "keep-alive" in tokens
    return "close" not in tokens


# --------------------------------------------------------------------------
# Connections

class Connection:
    """One accepted socket, served by its own thread until it is closed."""

    def __init__(self, sock, conn_id, tls_ctx):
        self.sock = sock
        self.conn_id = conn_id
        self.tls_ctx = tls_ctx
        self.rfile = None
        self.req = None
        self.keep_alive = True
        self.reset = False      # close with a RST instead of a FIN

    @property
    def is_head(self):
        return self.req is not None and self.req.method == "HEAD"

    def run(self):
        try:
            self._setup()
            while self._serve_one():
                pass
        except (OSError, PeerClosed) as e:
            # Resets, timeouts and TLS failures (e.g. a client rejecting the
            # certificate) are the client's business, not server errors.
            log.debug("connection %d: %s", self.conn_id, e)
        except Exception:
            log.exception("connection %d: unexpected error", self.conn_id)
        finally:
            self._close()

    def _setup(self):
        if self.sock.family != socket.AF_UNIX:
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self.tls_ctx is not None:
            # Handshake here, in the connection thread, so a slow or failing
            # client never stalls the accept loop.
            self.sock.settimeout(HANDSHAKE_TIMEOUT)
            self.sock = self.tls_ctx.wrap_socket(
                self.sock, server_side=True, do_handshake_on_connect=False)
            try:
                self.sock.do_handshake()
            except ssl.SSLError:
                if self.tls_ctx.verify_mode == ssl.CERT_REQUIRED:
                    drain_raw(self.sock)
                raise
        self.sock.settimeout(IDLE_TIMEOUT)
        self.rfile = self.sock.makefile("rb", buffering=64 * 1024)

    def _close(self):
        if self.rfile is not None:
            self.rfile.close()
        if self.reset:
            # SO_LINGER with a zero timeout: close() sends a RST at once.
            try:
                self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                     struct.pack("ii", 1, 0))
            except OSError:
                pass
            self.sock.close()
            return
        try:
            # FIN after whatever was sent, so nothing queued is lost to a RST.
            self.sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        self.sock.close()

    def _serve_one(self):
        """Serve one request; True if the connection stays open."""
        self.req = None
        try:
            req = read_request_head(self.rfile)
            if req is None:
                return False
            self.req = req
            STATS.new_request()
            self.keep_alive = wants_keep_alive(req)
            handler, arg = route(req.path)
            # A streaming handler reads the body itself (body_pieces()).
            if not getattr(handler, "streams_body", False):
                req.body = self._read_body(req)
        except BadRequest as e:
            self.keep_alive = False
            self.respond(400, b"bad request: %s" % str(e).encode())
            return False
        if log.isEnabledFor(logging.DEBUG):
            log.debug("connection %d: %s", self.conn_id,
                      req.raw_line.decode("latin-1"))
        try:
            handler(self, req, arg)
        except BadArgument as e:
            self.respond(400, b"bad argument: %s" % str(e).encode())
        except BadRequest as e:
            self.keep_alive = False
            self.respond(400, b"bad request: %s" % str(e).encode())
            return False
        return self.keep_alive

    def body_pieces(self, req):
        """The request body in pieces of at most BLOCK bytes, read as they
        are consumed (for bodies too large to hold)."""
        length = body_length(req)
        if length and req.version != "HTTP/1.0" and \
                req.header("expect", "").lower() == "100-continue":
            self.sock.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
        if length == "chunked":
            yield from read_chunked_pieces(self.rfile)
            return
        while length:
            piece = read_exact(self.rfile, min(length, BLOCK))
            length -= len(piece)
            yield piece

    def _read_body(self, req):
        length = body_length(req)
        if length and req.version != "HTTP/1.0" and \
                req.header("expect", "").lower() == "100-continue":
            # libcurl waits up to a second for this before sending a body.
            self.sock.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
        if length == "chunked":
            return read_chunked_body(self.rfile)
        return read_exact(self.rfile, length) if length else b""

    def send_head(self, status, headers, body=b""):
        """Send status line and headers, plus body unless this is HEAD."""
        lines = ["HTTP/1.1 %d %s" % (status, reason(status))]
        lines += ["%s: %s" % item for item in headers]
        if not self.keep_alive:
            lines.append("Connection: close")
        elif self.req is not None and self.req.version == "HTTP/1.0":
            lines.append("Connection: keep-alive")
        data = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        if body and not self.is_head:
            data += body        # one send call for small responses
        self.sock.sendall(data)

    def respond(self, status, body=b"", ctype=TEXT, headers=()):
        """A complete response with Content-Length."""
        self.send_head(status, [("Content-Type", ctype),
                                ("Content-Length", str(len(body))),
                                *headers], body)


def drain_raw(sock):
    """After a refused client certificate (sent after the handshake under
    TLS 1.3): read and drop what the client sends until it closes, so that
    closing does not reset the connection before the client reads the
    alert."""
    deadline = time.monotonic() + ALERT_DRAIN_TIMEOUT
    fd = sock.fileno()
    while fd >= 0:
        left = deadline - time.monotonic()
        if left <= 0:
            return
        try:
            ready, _, _ = select.select([fd], [], [], left)
            if not ready or not os.read(fd, 65536):
                return
        except OSError:
            return


def reason(status):
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


# --------------------------------------------------------------------------
# Endpoints: handler(conn, req, arg), arg is the path rest after a prefix

def parse_int(text, low, high, what="number"):
    if not is_decimal(text) or not low <= int(text) <= high:
        raise BadArgument("%s must be an integer in %d..%d"
                          % (what, low, high))
    return int(text)


def h_echo(c, req, _arg):
    head = b"".join(line + CRLF for line in req.header_lines)
    c.respond(200, req.raw_line + CRLF + head + CRLF + req.body, OCTET)


def h_status(c, req, arg):
    status = parse_int(arg, 200, 599, "status")
    if status in (204, 304):    # these never carry a body
        c.send_head(status, [])
    else:
        c.respond(status, b"status %d" % status)


def sleep_then_answer(c, ms):
    # A client that leaves meanwhile makes the send fail or the next read
    # see EOF; both end the connection quietly.
    if ms:
        time.sleep(ms / 1000.0)
    c.respond(200, b"delayed %d" % ms)


def h_delay(c, req, arg):
    sleep_then_answer(c, parse_int(arg, 0, MAX_DELAY_MS, "delay"))


def h_hold(c, req, _arg):
    sleep_then_answer(c, parse_int(req.arg("ms", "0"), 0, MAX_DELAY_MS, "ms"))


def h_bytes(c, req, arg):
    n = parse_int(arg, 0, MAX_BYTES, "size")
    tag = req.arg("tag")
    first = min(n, BLOCK)
    c.send_head(200, [("Content-Type", OCTET), ("Content-Length", str(n))],
                pattern(0, first))
    if c.is_head:
        return
    if tag is not None:
        SENT.add(tag, first)
    for offset in range(first, n, BLOCK):
        k = min(BLOCK, n - offset)
        c.sock.sendall(pattern(offset, k))
        if tag is not None:     # counted once the kernel took them
            SENT.add(tag, k)


def h_sent(c, req, _arg):
    c.respond(200, b"sent %d" % SENT.get(req.arg("tag", "")))


def h_chunked(c, req, arg):
    n = parse_int(arg, 0, MAX_BYTES, "size")
    size = parse_int(req.arg("chunk", "1000"), 1, BLOCK, "chunk")
    c.send_head(200, [("Content-Type", OCTET),
                      ("Transfer-Encoding", "chunked")])
    if c.is_head:
        return
    # One send per chunk: with TCP_NODELAY each leaves as its own segment,
    # so the client really sees the body arrive in pieces.
    for offset in range(0, n, size):
        k = min(size, n - offset)
        c.sock.sendall(b"%x\r\n%b\r\n" % (k, pattern(offset, k)))
    c.sock.sendall(b"0\r\n\r\n")


def redirect(c, location):
    if "\r" in location or "\n" in location:
        raise BadArgument("bad redirect target")
    c.respond(302, b"redirect", headers=[("Location", location)])


def h_redirect(c, req, _arg):
    status = parse_int(req.arg("status", "302"), 300, 399, "status")
    location = req.arg("to", "/echo")
    if "\r" in location or "\n" in location:
        raise BadArgument("bad redirect target")
    c.respond(status, b"redirect", headers=[("Location", location)])


def h_redirect_n(c, req, arg):
    k = parse_int(arg, 0, 1000000, "count")
    redirect(c, "/redirect/%d" % (k - 1) if k else "/echo")


def h_conn(c, req, _arg):
    c.respond(200, b"conn %d" % c.conn_id)


def h_close_early(c, req, _arg):
    # No "Connection: close": this imitates a server dying mid-body.
    c.send_head(200, [("Content-Type", OCTET), ("Content-Length", "1000")],
                b"0123456789")
    c.keep_alive = False


def h_close_no_response(c, req, _arg):
    c.keep_alive = False


# Fault endpoints: raw bytes, so they can break the rules send_head keeps.

def send_raw(c, data, keep_alive=False):
    c.keep_alive = keep_alive
    c.sock.sendall(data)


def wait_for_client_close(c, timeout):
    """Read and drop until the client closes (or timeout seconds pass)."""
    c.sock.settimeout(timeout)
    try:
        while c.sock.recv(65536):
            pass
    except OSError:
        pass


def h_fault_reset(c, req, _arg):
    send_raw(c, b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream"
                b"\r\nContent-Length: 1000\r\n\r\n0123456789")
    time.sleep(0.2)             # let the client read the head and 10 bytes
    c.reset = True


def h_fault_chunked_truncated(c, req, _arg):
    send_raw(c, b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream"
                b"\r\nTransfer-Encoding: chunked\r\n\r\n"
                b"a\r\n0123456789\r\n64\r\n0123")


def h_fault_bad_chunk_size(c, req, _arg):
    send_raw(c, b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream"
                b"\r\nTransfer-Encoding: chunked\r\n\r\n"
                b"zz\r\nhello\r\n0\r\n\r\n")
    wait_for_client_close(c, 30)


def h_fault_garbage_status(c, req, _arg):
    send_raw(c, b"HELLO WORLD\r\nX-Not: http\r\n\r\nbody")


def ok_after(head_lines):
    return (b"HTTP/1.1 200 OK\r\n" + head_lines +
            b"Content-Type: text/plain\r\nContent-Length: 2\r\n\r\nok")


def h_fault_headers_1mib(c, req, _arg):
    line = b"X-Fill-%04d: " + b"a" * (1024 - 16) + CRLF
    send_raw(c, ok_after(b"".join(line % i for i in range(1024))))


def h_fault_headers_100k(c, req, _arg):
    send_raw(c, ok_after(b"".join(b"X-N: %d\r\n" % i
                                  for i in range(100000))))


def h_fault_header_200kib(c, req, _arg):
    send_raw(c, ok_after(b"X-Long: " + b"a" * (200 * 1024) + CRLF))


def h_fault_trickle(c, req, _arg):
    ms = parse_int(req.arg("ms", "100"), 0, MAX_DELAY_MS, "ms")
    n = parse_int(req.arg("n", "100"), 0, 1000000, "n")
    send_raw(c, b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream"
                b"\r\nContent-Length: %d\r\n\r\n" % n)
    for i in range(n):
        time.sleep(ms / 1000.0)
        c.sock.sendall(pattern(i, 1))   # fails once the client has gone


def h_fault_never(c, req, _arg):
    c.keep_alive = False
    wait_for_client_close(c, IDLE_TIMEOUT)


def h_fault_length_short(c, req, _arg):
    send_raw(c, b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                b"Content-Length: 5\r\n\r\n0123456789abcde", keep_alive=True)


def h_fault_http10(c, req, _arg):
    n = parse_int(req.arg("n", "100000"), 0, MAX_BYTES, "n")
    send_raw(c, b"HTTP/1.0 200 OK\r\nContent-Type: application/octet-stream"
                b"\r\n\r\n")
    for offset in range(0, n, BLOCK):
        c.sock.sendall(pattern(offset, min(BLOCK, n - offset)))


def h_fault_header_nul(c, req, _arg):
    send_raw(c, ok_after(b"X-Nul: a\x00b\r\n"))


def h_header(c, req, _arg):
    name, value = req.arg("name"), req.arg("value", "")
    headers = [("X-Multi", "a"), ("X-Multi", "b")]
    if name is not None:
        if not name or any(ch in name for ch in ":\r\n \t") or \
                "\r" in value or "\n" in value:
            raise BadArgument("bad header name or value")
        headers.insert(0, (name, value))
    c.respond(200, b"ok", headers=headers)


def h_trickle(c, req, _arg):
    n = parse_int(req.arg("bytes", "100"), 1, 1000000, "bytes")
    ms = parse_int(req.arg("ms", "100"), 0, MAX_DELAY_MS, "ms")
    body = pattern(0, n)
    c.send_head(200, [("Content-Type", OCTET), ("Content-Length", str(n))],
                body[:1])
    if c.is_head:
        return
    # A client that leaves meanwhile makes a send fail: the connection ends.
    for i in range(1, n):
        time.sleep(ms / 1000.0)
        c.sock.sendall(body[i:i + 1])


def h_track(c, req, _arg):
    tag = req.arg("tag", "")
    ms = parse_int(req.arg("ms", "0"), 0, MAX_DELAY_MS, "ms")
    GAUGES.enter(tag)
    try:
        if ms:
            time.sleep(ms / 1000.0)
    finally:
        peak = GAUGES.leave(tag)
    c.respond(200, b"conn %d peak %d" % (c.conn_id, peak))


def h_client_cert(c, req, _arg):
    name = "none"
    if isinstance(c.sock, ssl.SSLSocket):
        cert = c.sock.getpeercert() or {}
        for rdn in cert.get("subject", ()):
            for key, value in rdn:
                if key == "commonName":
                    name = value
    c.respond(200, name.encode())


def h_tls_version(c, req, _arg):
    version = "none"
    if isinstance(c.sock, ssl.SSLSocket):
        version = c.sock.version() or "none"
    c.respond(200, version.encode())


def h_stats(c, req, _arg):
    c.respond(200, b"requests %d connections %d" % STATS.snapshot())


def h_not_found(c, req, _arg):
    c.respond(404, b"not found")


def h_digest(c, req, _arg):
    """Reads the body as it comes (never holding it) and describes it."""
    chunked = body_length(req) == "chunked"
    digest = hashlib.sha256()
    total = 0
    is_pattern = True
    for piece in c.body_pieces(req):
        if is_pattern and piece != pattern(total, len(piece)):
            is_pattern = False
        digest.update(piece)
        total += len(piece)
    c.respond(200, b"bytes %d sha256 %s chunked %s pattern %s" % (
        total, digest.hexdigest().encode(), b"yes" if chunked else b"no",
        b"yes" if is_pattern else b"no"))


h_digest.streams_body = True


def h_flaky(c, req, _arg):
    key = req.arg("key", "")
    fail = parse_int(req.arg("fail", "1"), 0, 1000, "fail")
    mode = req.arg("mode", "close")
    if mode not in ("close", "503", "429"):
        raise BadArgument("mode must be close, 503 or 429")
    count = FLAKY.add(key, 1)
    if count > fail:
        c.respond(200, b"ok after %d" % fail)
    elif mode == "close":
        c.keep_alive = False    # no response at all
    else:
        headers = []
        retry_after = req.arg("retry_after")
        if retry_after is not None:
            if not retry_after or any(ch in retry_after for ch in "\r\n"):
                raise BadArgument("bad retry_after")
            headers.append(("Retry-After", retry_after))
        c.respond(int(mode), b"busy %d" % count, headers=headers)


def h_count(c, req, _arg):
    c.respond(200, b"count %d" % FLAKY.get(req.arg("key", "")))


def h_cookie_set(c, req, _arg):
    values = parse_qs(req.query, keep_blank_values=True,
                      encoding="latin-1").get("c", [])
    if any("\r" in v or "\n" in v for v in values):
        raise BadArgument("bad cookie")
    c.respond(200, b"set %d" % len(values),
              headers=[("Set-Cookie", v) for v in values])


ENCODED_SIZE = 100000
ENCODED_DIR = os.path.join(HERE, "encoded")


def make_encoded():
    """The /encoded bodies: ENCODED_SIZE bytes of the /bytes pattern, as
    they are and gzip-, zlib- ("deflate"), brotli- and zstd-compressed (the
    last two made by make_encoded.py, as the standard library has neither)."""
    data = bytes(pattern(0, ENCODED_SIZE))
    gzip = zlib.compressobj(9, zlib.DEFLATED, 31)
    bodies = {"identity": data,
              "gzip": gzip.compress(data) + gzip.flush(),
              "deflate": zlib.compress(data, 9)}
    for name in ("br", "zstd"):
        path = os.path.join(ENCODED_DIR, "pattern-%d.%s" % (ENCODED_SIZE,
                                                            name))
        try:
            with open(path, "rb") as f:
                bodies[name] = f.read()
        except OSError as e:
            log.warning("no %s body for /encoded: %s", name, e)
    return bodies


ENCODED = make_encoded()


def h_encoded(c, req, _arg):
    enc = req.arg("enc", "gzip")
    body = ENCODED.get(enc)
    if body is None:
        raise BadArgument("unknown encoding %r" % enc)
    headers = [("X-Accept-Encoding", req.header("accept-encoding", "none"))]
    if enc != "identity":
        headers.append(("Content-Encoding", enc))
    c.respond(200, body, OCTET, headers)


def make_zero_gzip(mib=1 << 20):
    """Pieces of a gzip stream of many MiB of zeros, so that /gzip-zeros
    never compresses or holds its decoded size: after a full flush deflate
    forgets its history, so each further MiB compresses to the same bytes.
    Returns (head, per_mib); the stream of n MiB is head + per_mib * (n-1)
    + the final empty block and the trailer (gzip_zeros_tail)."""
    zeros = bytes(mib)
    co = zlib.compressobj(9, zlib.DEFLATED, 31)
    head = co.compress(zeros) + co.flush(zlib.Z_FULL_FLUSH)
    per_mib = co.compress(zeros) + co.flush(zlib.Z_FULL_FLUSH)
    again = co.compress(zeros) + co.flush(zlib.Z_FULL_FLUSH)
    assert again == per_mib, "deflate output of zeros is not periodic"
    return head, per_mib


ZERO_GZIP = make_zero_gzip()
ZERO_MIB_CRC = zlib.crc32(bytes(1 << 20))


def gzip_zeros_tail(n_mib):
    """Final empty fixed-Huffman block, then CRC-32 and size mod 2^32."""
    crc = 0
    for _ in range(n_mib):      # only reached when a client reads it all
        crc = zlib.crc32(bytes(1 << 20), crc)
    return b"\x03\x00" + struct.pack("<II", crc, (n_mib << 20) & 0xffffffff)


def h_gzip_zeros(c, req, _arg):
    n = parse_int(req.arg("mib", "1"), 1, 1 << 20, "mib")
    head, per_mib = ZERO_GZIP
    c.send_head(200, [("Content-Type", OCTET), ("Content-Encoding", "gzip"),
                      ("Transfer-Encoding", "chunked")])
    if c.is_head:
        return
    c.sock.sendall(b"%x\r\n%b\r\n" % (len(head), head))
    # About 64 KiB of compressed data per send.
    group = max(1, 65536 // len(per_mib))
    left = n - 1
    while left:
        k = min(group, left)
        data = per_mib * k
        c.sock.sendall(b"%x\r\n%b\r\n" % (len(data), data))
        left -= k
    tail = gzip_zeros_tail(n)
    c.sock.sendall(b"%x\r\n%b\r\n0\r\n\r\n" % (len(tail), tail))


EXACT_ROUTES = {
    "/echo": h_echo,
    "/hold": h_hold,
    "/redirect": h_redirect,
    "/conn": h_conn,
    "/close-early": h_close_early,
    "/close-no-response": h_close_no_response,
    "/header": h_header,
    "/stats": h_stats,
    "/client-cert": h_client_cert,
    "/tls-version": h_tls_version,
    "/trickle": h_trickle,
    "/track": h_track,
    "/sent": h_sent,
    "/digest": h_digest,
    "/flaky": h_flaky,
    "/count": h_count,
    "/cookie/set": h_cookie_set,
    "/cookie/echo": h_echo,
    "/encoded": h_encoded,
    "/gzip-zeros": h_gzip_zeros,
    "/fault/reset": h_fault_reset,
    "/fault/chunked-truncated": h_fault_chunked_truncated,
    "/fault/bad-chunk-size": h_fault_bad_chunk_size,
    "/fault/garbage-status": h_fault_garbage_status,
    "/fault/headers-1mib": h_fault_headers_1mib,
    "/fault/headers-100k": h_fault_headers_100k,
    "/fault/header-200kib": h_fault_header_200kib,
    "/fault/trickle": h_fault_trickle,
    "/fault/never": h_fault_never,
    "/fault/length-short": h_fault_length_short,
    "/fault/http10": h_fault_http10,
    "/fault/header-nul": h_fault_header_nul,
}

PREFIX_ROUTES = [
    ("/status/", h_status),
    ("/delay/", h_delay),
    ("/bytes/", h_bytes),
    ("/chunked/", h_chunked),
    ("/redirect/", h_redirect_n),
    ("/echo/", h_echo),
]


def route(path):
    handler = EXACT_ROUTES.get(path)
    if handler is not None:
        return handler, None
    for prefix, handler in PREFIX_ROUTES:
        if path.startswith(prefix):
            return handler, path[len(prefix):]
    return h_not_found, None


# --------------------------------------------------------------------------
# Proxy

class ProxyLog:
    """What the proxy saw: one line per request."""

    def __init__(self):
        self._lock = threading.Lock()
        self._lines = []

    def add(self, line):
        with self._lock:
            self._lines.append(line)

    def text(self):
        with self._lock:
            return "".join(line + "\n" for line in self._lines)

    def clear(self):
        with self._lock:
            self._lines = []


PROXY_LOG = ProxyLog()
PROXY_GOOD_AUTH = "Basic " + base64.b64encode(
    ("%s:%s" % (PROXY_USER, PROXY_PASSWORD)).encode()).decode()


class ProxyConnection:
    """One client of the forwarding proxy: one request, then close."""

    def __init__(self, sock, conn_id):
        self.sock = sock
        self.conn_id = conn_id

    def run(self):
        try:
            self.sock.settimeout(IDLE_TIMEOUT)
            self._serve()
        except (OSError, PeerClosed, BadRequest) as e:
            log.debug("proxy connection %d: %s", self.conn_id, e)
        except Exception:
            log.exception("proxy connection %d: unexpected error",
                          self.conn_id)
        finally:
            try:
                self.sock.close()
            except OSError:
                pass

    def _answer(self, status, body):
        head = "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\n" \
               "Content-Length: %d\r\nConnection: close\r\n" % (
                   status, reason(status), len(body))
        if status == 407:
            head += 'Proxy-Authenticate: Basic realm="test proxy"\r\n'
        self.sock.sendall(head.encode() + b"\r\n" + body)

    def _serve(self):
        rfile = self.sock.makefile("rb", buffering=0)
        req = read_request_head(rfile)
        if req is None:
            return
        method = req.method
        target = req.raw_line.split()[1].decode("latin-1")
        if method == "GET" and target in ("/proxy/log", "/proxy/clear"):
            if target == "/proxy/clear":
                PROXY_LOG.clear()
            self._answer(200, PROXY_LOG.text().encode())
            return
        auth = req.header("proxy-authorization")
        PROXY_LOG.add("%s %s auth=%s" % (method, target, auth or "-"))
        if auth is not None and auth != PROXY_GOOD_AUTH:
            self._answer(407, b"proxy authentication failed")
            return
        if method == "CONNECT":
            host, port = split_target(target)
        elif target.startswith("http://"):
            host, port = split_target(target[len("http://"):].split("/")[0],
                                      80)
        else:
            self._answer(400, b"not a proxy request")
            return
        if host not in PROXY_TARGETS or port is None:
            self._answer(403, b"the test proxy reaches loopback only")
            return
        try:
            upstream = socket.create_connection((host.strip("[]"), port),
                                                timeout=IDLE_TIMEOUT)
        except OSError as e:
            self._answer(502, ("cannot connect: %s" % e).encode())
            return
        with upstream:
            if method == "CONNECT":
                self.sock.sendall(
                    b"HTTP/1.1 200 Connection established\r\n\r\n")
                relay(self.sock, upstream)
                return
            path = "/" + target[len("http://"):].partition("/")[2]
            lines = ["%s %s HTTP/1.1" % (method, path)]
            for raw in req.header_lines:
                name = raw.decode("latin-1").partition(":")[0].strip().lower()
                if name not in ("proxy-authorization", "proxy-connection",
                                "connection"):
                    lines.append(raw.decode("latin-1"))
            lines.append("Connection: close")
            length = body_length(req)
            if length == "chunked":
                self._answer(501, b"chunked request bodies are not relayed")
                return
            body = read_exact(rfile, length) if length else b""
            upstream.sendall(("\r\n".join(lines) + "\r\n\r\n")
                             .encode("latin-1") + body)
            while True:
                data = upstream.recv(65536)
                if not data:
                    break
                self.sock.sendall(data)


def split_target(text, default_port=None):
    """(host, port) of "host[:port]" or "[v6][:port]"; port None if bad."""
    if text.startswith("["):
        end = text.find("]")
        host, rest = text[:end + 1], text[end + 1:]
    else:
        host, sep, rest = text.partition(":")
        rest = sep + rest
    if not rest:
        return host, default_port
    port = rest[1:]
    if rest[0] != ":" or not is_decimal(port) or not 0 < int(port) < 65536:
        return host, None
    return host, int(port)


def relay(a, b):
    """Copies bytes both ways until either side closes."""
    socks = [a, b]
    for s in socks:
        s.setblocking(True)
    try:
        while True:
            ready, _, _ = select.select(socks, [], [], IDLE_TIMEOUT)
            if not ready:
                return
            for src in ready:
                data = src.recv(65536)
                if not data:
                    return
                (b if src is a else a).sendall(data)
    except OSError:
        return


# --------------------------------------------------------------------------
# Listening

def make_tls_context(cert_file=CERT_FILE, key_file=KEY_FILE,
                     client_ca=None, max_version=None):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert_file, key_file)
    ctx.set_alpn_protocols(["http/1.1"])    # keep HTTP/2 clients on 1.1
    if client_ca is not None:
        ctx.load_verify_locations(client_ca)
        ctx.verify_mode = ssl.CERT_REQUIRED
    if max_version is not None:
        ctx.maximum_version = max_version
    return ctx


def open_listeners(tls_ctx):
    """[(socket, tls_ctx or None)]: HTTP and HTTPS on 127.0.0.1 and, when
    possible, ::1; then the expired, wrong-host, mutual-TLS, TLS-1.2 and
    example.test HTTPS listeners (127.0.0.1 only).  The port file lists the
    127.0.0.1 ones in this order."""
    http4 = socket.create_server(("127.0.0.1", 0), backlog=LISTEN_BACKLOG)
    https4 = socket.create_server(("127.0.0.1", 0), backlog=LISTEN_BACKLOG)
    listeners = [(http4, None), (https4, tls_ctx)]
    extra = []
    for ctx in (make_tls_context(EXPIRED_CERT_FILE, EXPIRED_KEY_FILE),
                make_tls_context(WRONGHOST_CERT_FILE, WRONGHOST_KEY_FILE),
                make_tls_context(client_ca=CERT_FILE),
                make_tls_context(max_version=ssl.TLSVersion.TLSv1_2),
                make_tls_context(EXAMPLE_CERT_FILE, EXAMPLE_KEY_FILE)):
        sock = socket.create_server(("127.0.0.1", 0), backlog=LISTEN_BACKLOG)
        extra.append((sock, ctx))
    # Same port on ::1 so "localhost" works either way; optional.
    for sock4, ctx in list(listeners):
        try:
            sock6 = socket.create_server(
                ("::1", sock4.getsockname()[1]), family=socket.AF_INET6,
                backlog=LISTEN_BACKLOG)
            listeners.append((sock6, ctx))
        except OSError as e:
            log.debug("no IPv6 listener: %s", e)
    return listeners + extra


class WorkerPool:
    """Runs each connection on its own thread, reusing idle threads: starting
    a thread costs more than serving a short connection does."""

    def __init__(self):
        self._lock = threading.Lock()
        self._queue = queue.SimpleQueue()
        self._idle = 0          # workers committed to taking from _queue

    def submit(self, conn):
        with self._lock:        # put under the lock: see _next()
            if self._idle:
                self._idle -= 1
                self._queue.put(conn)
                return
        threading.Thread(target=self._work, args=(conn,), daemon=True).start()

    def _work(self, conn):
        while conn is not None:
            conn.run()
            conn = self._next()

    def _next(self):
        """The next connection, or None once idle too long (thread exits)."""
        with self._lock:
            self._idle += 1
        try:
            return self._queue.get(timeout=WORKER_IDLE_EXIT)
        except queue.Empty:
            pass
        with self._lock:
            # A submit that counted on us has put its connection already.
            try:
                return self._queue.get_nowait()
            except queue.Empty:
                self._idle -= 1
                return None


def accept_loop(lsock, tls_ctx, pool, proxy=False):
    while True:
        try:
            sock, _addr = lsock.accept()
        except OSError as e:    # e.g. EMFILE: back off, keep serving
            log.error("accept failed: %s", e)
            time.sleep(0.05)
            continue
        if proxy:
            conn = ProxyConnection(sock, STATS.new_connection())
        else:
            conn = Connection(sock, STATS.new_connection(), tls_ctx)
        try:
            pool.submit(conn)
        except RuntimeError as e:
            log.error("cannot start connection thread: %s", e)
            sock.close()


def raise_fd_limit():
    """Debian's default soft limit (1024) is too low for 2000+ clients."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = WANT_FDS
    if hard != resource.RLIM_INFINITY:
        target = min(hard, WANT_FDS)
    if soft != resource.RLIM_INFINITY and soft < target:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        except (ValueError, OSError) as e:
            log.warning("cannot raise open file limit: %s", e)


# --------------------------------------------------------------------------
# Files shared with the start/stop commands

def write_atomic(path, text):
    tmp = "%s.tmp.%d" % (path, os.getpid())
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def read_text(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return None


def remove_file(path, only_if=None):
    """Remove path; with only_if, only while it still holds that text."""
    if path is None or (only_if is not None and read_text(path) != only_if):
        return
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def read_pid(path):
    text = read_text(path)
    return int(text) if text and is_decimal(text.strip()) else None


# --------------------------------------------------------------------------
# Commands

class StopServer(Exception):
    pass


def raise_stop(_signum, _frame):
    # Raising (rather than setting an Event) takes no lock in the handler.
    raise StopServer()


def sleep_for_life(seconds):
    if seconds > 0:
        time.sleep(seconds)
    else:
        while True:
            time.sleep(3600)


def cmd_serve(args):
    raise_fd_limit()
    threading.stack_size(THREAD_STACK)
    listeners = open_listeners(make_tls_context())
    pool = WorkerPool()
    for lsock, ctx in listeners:
        threading.Thread(target=accept_loop, args=(lsock, ctx, pool),
                         daemon=True).start()

    proxy_sock = socket.create_server(("127.0.0.1", 0),
                                      backlog=LISTEN_BACKLOG)
    threading.Thread(target=accept_loop, args=(proxy_sock, None, pool, True),
                     daemon=True).start()
    # A second plain HTTP listener: another origin on the same host.
    alt_sock = socket.create_server(("127.0.0.1", 0), backlog=LISTEN_BACKLOG)
    threading.Thread(target=accept_loop, args=(alt_sock, None, pool),
                     daemon=True).start()
    unix_dir = tempfile.mkdtemp(prefix="nethttp-test-")
    unix_path = os.path.join(unix_dir, "http.sock")
    unix_sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    unix_sock.bind(unix_path)
    unix_sock.listen(LISTEN_BACKLOG)
    threading.Thread(target=accept_loop, args=(unix_sock, None, pool),
                     daemon=True).start()

    ports = [sock.getsockname()[1] for sock, _ in listeners[:2]]
    ports += [sock.getsockname()[1] for sock, _ in listeners[-5:]]
    ports.append(proxy_sock.getsockname()[1])
    ports.append(alt_sock.getsockname()[1])
    pid_text = "%d\n" % os.getpid()
    port_text = " ".join(map(str, ports)) + "\n"
    unix_text = unix_path + "\n"
    if args.pid_file:
        write_atomic(args.pid_file, pid_text)
    if args.port_file:
        write_atomic(args.port_file + ".unix", unix_text)
    if args.port_file:          # last: its presence means "ready"
        write_atomic(args.port_file, port_text)
    print("listening on http://127.0.0.1:%d/ and https://127.0.0.1:%d/"
          % (ports[0], ports[1]), flush=True)

    try:
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, raise_stop)
        sleep_for_life(args.max_lifetime)
        log.warning("maximum lifetime of %gs reached, exiting",
                    args.max_lifetime)
    except StopServer:
        pass
    remove_file(args.port_file, only_if=port_text)
    if args.port_file:
        remove_file(args.port_file + ".unix", only_if=unix_text)
    remove_file(args.pid_file, only_if=pid_text)
    shutil.rmtree(unix_dir, ignore_errors=True)
    logging.shutdown()
    # Daemon threads may sit in blocking calls; do not wait for them.
    os._exit(0)


def is_our_server(pid):
    """Guards against signalling an unrelated process that reused the pid."""
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            cmdline = f.read()
    except FileNotFoundError:
        return False
    except OSError:             # no /proc: trust the pid file
        return process_alive(pid)
    return b"test_server.py" in cmdline and b"serve" in cmdline


def process_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:                        # a zombie has exited already
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def wait_gone(pid, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not process_alive(pid):
            return True
        time.sleep(0.02)
    return not process_alive(pid)


def stop_server(port_file, pid_file):
    pid = read_pid(pid_file)
    if pid and is_our_server(pid):
        try:
            os.kill(pid, signal.SIGTERM)
            if not wait_gone(pid, STOP_TIMEOUT):
                log.warning("server %d ignored SIGTERM, killing it", pid)
                os.kill(pid, signal.SIGKILL)
                wait_gone(pid, STOP_TIMEOUT)
        except ProcessLookupError:
            pass
    remove_file(port_file)
    remove_file(port_file + ".unix")
    remove_file(pid_file)


def file_paths(args):
    port_file = os.path.abspath(args.port_file)
    pid_file = os.path.abspath(args.pid_file or port_file + ".pid")
    return port_file, pid_file


def cmd_stop(args):
    stop_server(*file_paths(args))
    return 0


def read_ports(path):
    text = read_text(path)
    fields = text.split() if text and text.endswith("\n") else []
    if len(fields) >= 2 and all(map(is_decimal, fields)):
        return fields
    return None


def spawn_server(args, port_file, pid_file):
    cmd = [sys.executable, os.path.abspath(__file__), "serve",
           "--port-file", port_file, "--pid-file", pid_file,
           "--max-lifetime", str(args.max_lifetime)]
    if args.verbose:
        cmd.append("--verbose")
    log_path = os.path.abspath(args.log) if args.log else os.devnull
    with open(log_path, "ab") as out:
        # New session and no inherited descriptors: ctest's output pipes
        # must close when this start command exits.
        return subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out,
                                stderr=subprocess.STDOUT, close_fds=True,
                                start_new_session=True, cwd="/")


def cmd_start(args):
    port_file, pid_file = file_paths(args)
    stop_server(port_file, pid_file)    # leftovers of an earlier run
    try:
        proc = spawn_server(args, port_file, pid_file)
    except OSError as e:
        print("cannot start test server: %s" % e, file=sys.stderr)
        return 1
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        ports = read_ports(port_file)
        if ports:               # written only once both sockets listen
            print("test server pid %d: http port %s, https port %s"
                  % (proc.pid, ports[0], ports[1]))
            proc.returncode = 0     # detached on purpose; silence Popen
            return 0
        if proc.poll() is not None:
            hint = "see " + args.log if args.log else "use --log to see why"
            print("test server exited early with status %d (%s)"
                  % (proc.returncode, hint), file=sys.stderr)
            return 1
        time.sleep(0.02)
    print("test server did not start within %gs" % START_TIMEOUT,
          file=sys.stderr)
    proc.kill()
    proc.wait()
    remove_file(port_file)
    remove_file(pid_file)
    return 1


def parse_args(argv):
    parser = argparse.ArgumentParser(
        description="HTTP/HTTPS test server for the nethttp C tests.")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run in the foreground")
    start = sub.add_parser("start", help="start detached in the background")
    stop = sub.add_parser("stop", help="stop a server made by start")
    serve.add_argument("--port-file")
    for p in (start, stop):
        p.add_argument("--port-file", required=True)
    for p in (serve, start, stop):
        p.add_argument("--pid-file",
                       help="default for start/stop: PORT_FILE.pid")
    start.add_argument("--log", help="server output (default: discarded)")
    for p in (serve, start):
        p.add_argument("--max-lifetime", type=float,
                       default=DEFAULT_MAX_LIFETIME,
                       help="exit after this many seconds (0: never)")
        p.add_argument("--verbose", action="store_true",
                       help="log every request")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    verbose = getattr(args, "verbose", False)
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING,
        format="%(asctime)s test_server[%(process)d] %(levelname)s "
               "%(message)s")
    commands = {"serve": cmd_serve, "start": cmd_start, "stop": cmd_stop}
    return commands[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
