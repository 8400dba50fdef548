#!/usr/bin/env python3
"""HTTP/2 test server for the nethttp C tests (test_http2).

Needs the Python package h2 (and its hpack and hyperframe), which
scripts/ensure-tools.sh installs (Debian's python3-h2, or `pip install
--user h2`); without it every command fails at once with a message saying
so.  Usage, as for test_server.py:

  h2_server.py serve [--port-file F] [--pid-file P]   foreground
  h2_server.py start --port-file F [--pid-file P] [--log L]
                                                     detached, returns once
                                                     listening
  h2_server.py stop --port-file F [--pid-file P]

Options: --max-lifetime SECONDS (default 1800, 0 = no limit), --verbose.

The port file holds one line "TLS_PORT H2C_PORT\\n" (more fields may be
appended, never reordered); the ctest fixture writes it next to the main
server's port file, as PORT_FILE.h2.  Both listen on 127.0.0.1:
  TLS_PORT  TLS with cert.pem / key.pem; ALPN offers "h2" and "http/1.1",
            and the connection speaks whichever the client picked
            (HTTP/1.1 when it picked none)
  H2C_PORT  plain TCP: HTTP/2 with prior knowledge when the client starts
            with the HTTP/2 connection preface, HTTP/1.1 otherwise (no
            Upgrade: h2c)

Endpoints (the same over both protocols; any method):
  /conn                "conn ID proto P": ID unique per TCP connection, P
                       "h2" or "http/1.1"
  /track?tag=T&ms=M    counts the requests with tag T being served at once,
                       sleeps M ms, then answers "conn ID peak P proto X"
                       (P the most requests with tag T served at once so
                       far, as test_server.py's /track)
  /echo                "METHOD PATH" then one "name: value" line per request
                       header (pseudo-headers left out), a blank line, the
                       request body
  /bytes/N             N bytes (N <= 64 MiB), byte i = (i * 7 + 3) % 256
  anything else        404 "not found"
Streams are answered concurrently, and response bodies respect HTTP/2 flow
control.
"""

import argparse
import asyncio
import itertools
import logging
import os
import signal
import ssl
import subprocess
import sys
import time
from urllib.parse import parse_qs

try:
    import h2.config
    import h2.connection
    import h2.events
    import h2.exceptions
except ImportError as e:
    h2 = None
    H2_IMPORT_ERROR = e

HERE = os.path.dirname(os.path.abspath(__file__))
CERT_FILE = os.path.join(HERE, "cert.pem")
KEY_FILE = os.path.join(HERE, "key.pem")
PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
MAX_BYTES = 64 << 20
MAX_HEAD = 1 << 20
START_TIMEOUT = 10.0
STOP_TIMEOUT = 5.0

log = logging.getLogger("h2_server")
CONN_IDS = itertools.count(1)
PERIOD = bytes((i * 7 + 3) % 256 for i in range(256))


def pattern(n):
    return (PERIOD * (n // 256 + 1))[:n]


class Gauges:
    """Requests served at once per /track tag, and the most seen (one
    event loop: no lock needed)."""

    def __init__(self):
        self.active = {}
        self.peak = {}

    def enter(self, tag):
        self.active[tag] = self.active.get(tag, 0) + 1
        self.peak[tag] = max(self.peak.get(tag, 0), self.active[tag])

    def leave(self, tag):
        self.active[tag] -= 1
        return self.peak[tag]


GAUGES = Gauges()


class BadArgument(Exception):
    pass


def int_arg(args, name, default, high):
    text = args.get(name, [str(default)])[0]
    if not text.isascii() or not text.isdigit() or int(text) > high:
        raise BadArgument("%s must be an integer in 0..%d" % (name, high))
    return int(text)


async def handle(conn, method, target, headers, body, proto):
    """(status, body) for one request; headers is a list of (name, value)."""
    path, _, query = target.partition("?")
    args = parse_qs(query, keep_blank_values=True)
    try:
        if path == "/conn":
            return 200, b"conn %d proto %s" % (conn.id, proto.encode())
        if path == "/track":
            tag = args.get("tag", [""])[0]
            ms = int_arg(args, "ms", 0, 3600 * 1000)
            GAUGES.enter(tag)
            try:
                await asyncio.sleep(ms / 1000.0)
            finally:
                peak = GAUGES.leave(tag)
            return 200, b"conn %d peak %d proto %s" % (conn.id, peak,
                                                       proto.encode())
        if path == "/echo":
            lines = ["%s %s" % (method, target)]
            lines += ["%s: %s" % (n, v) for n, v in headers
                      if not n.startswith(":")]
            return 200, ("\r\n".join(lines) + "\r\n\r\n").encode(
                "latin-1", "replace") + body
        if path.startswith("/bytes/"):
            n = int_arg({"n": [path[len("/bytes/"):]]}, "n", 0, MAX_BYTES)
            return 200, pattern(n)
    except BadArgument as e:
        return 400, b"bad argument: %s" % str(e).encode()
    return 404, b"not found"


class Connection(asyncio.Protocol):
    """One TCP (or TLS) connection: HTTP/2 or HTTP/1.1, decided by ALPN on
    TLS and by the first bytes on plain TCP."""

    def __init__(self, tls):
        self.tls = tls
        self.id = next(CONN_IDS)
        self.transport = None
        self.proto = None       # "h2" or "http/1.1" once known
        self.pending = b""      # plain TCP: bytes before the decision
        self.h2 = None
        self.streams = {}       # stream id -> [headers, body]
        self.window_waiters = []
        self.reader = None      # HTTP/1.1: a StreamReader fed by us
        self.closed = False

    # -- asyncio.Protocol

    def connection_made(self, transport):
        self.transport = transport
        if self.tls:            # called once the handshake is done
            ssl_object = transport.get_extra_info("ssl_object")
            alpn = ssl_object.selected_alpn_protocol() if ssl_object else None
            self._choose("h2" if alpn == "h2" else "http/1.1")
        log.debug("connection %d: %s", self.id, self.proto or "plain")

    def data_received(self, data):
        if self.proto is None:
            self.pending += data
            if len(self.pending) < len(PREFACE) and \
                    PREFACE.startswith(self.pending):
                return          # could still be the preface
            data, self.pending = self.pending, b""
            self._choose("h2" if data.startswith(PREFACE) else "http/1.1")
        if self.proto == "h2":
            self._h2_received(data)
        else:
            self.reader.feed_data(data)

    def connection_lost(self, exc):
        self.closed = True
        if self.reader is not None:
            self.reader.feed_eof()
        self._wake_senders()

    def _choose(self, proto):
        self.proto = proto
        if proto == "h2":
            config = h2.config.H2Configuration(client_side=False,
                                               header_encoding="latin-1")
            self.h2 = h2.connection.H2Connection(config=config)
            self.h2.initiate_connection()
            self._flush()
        else:
            self.reader = asyncio.StreamReader(limit=MAX_HEAD)
            asyncio.ensure_future(self._http1_loop())

    # -- HTTP/2

    def _flush(self):
        data = self.h2.data_to_send()
        if data and not self.closed:
            self.transport.write(data)

    def _wake_senders(self):
        waiters, self.window_waiters = self.window_waiters, []
        for fut in waiters:
            if not fut.done():
                fut.set_result(None)

    def _h2_received(self, data):
        try:
            events = self.h2.receive_data(data)
        except h2.exceptions.ProtocolError as e:
            log.debug("connection %d: protocol error %s", self.id, e)
            self._flush()
            self.transport.close()
            return
        for event in events:
            log.debug("connection %d: %s", self.id, event)
            if isinstance(event, h2.events.RequestReceived):
                self.streams[event.stream_id] = [list(event.headers),
                                                 bytearray()]
            elif isinstance(event, h2.events.DataReceived):
                stream = self.streams.get(event.stream_id)
                if stream is not None:
                    stream[1] += event.data
                self.h2.acknowledge_received_data(
                    event.flow_controlled_length, event.stream_id)
            elif isinstance(event, h2.events.StreamEnded):
                stream = self.streams.pop(event.stream_id, None)
                if stream is not None:
                    asyncio.ensure_future(
                        self._h2_respond(event.stream_id, *stream))
            elif isinstance(event, (h2.events.WindowUpdated,
                                    h2.events.RemoteSettingsChanged,
                                    h2.events.StreamReset)):
                self._wake_senders()
            elif isinstance(event, h2.events.ConnectionTerminated):
                self.transport.close()
        self._flush()

    async def _h2_respond(self, stream_id, headers, body):
        fields = dict(headers)
        status, data = await handle(self, fields.get(":method", "GET"),
                                    fields.get(":path", "/"), headers,
                                    bytes(body), "h2")
        try:
            self.h2.send_headers(stream_id, [
                (":status", str(status)),
                ("content-type", "application/octet-stream"),
                ("content-length", str(len(data)))])
            self._flush()
            view = memoryview(data)
            while view and not self.closed:
                window = self.h2.local_flow_control_window(stream_id)
                if window <= 0:
                    fut = asyncio.get_running_loop().create_future()
                    self.window_waiters.append(fut)
                    await fut
                    continue
                n = min(window, self.h2.max_outbound_frame_size, len(view))
                self.h2.send_data(stream_id, bytes(view[:n]))
                view = view[n:]
                self._flush()
            if not self.closed:
                self.h2.end_stream(stream_id)
                self._flush()
        except (h2.exceptions.StreamClosedError,
                h2.exceptions.ProtocolError) as e:
            log.debug("connection %d stream %d: %s", self.id, stream_id, e)

    # -- HTTP/1.1 (requests with Content-Length bodies or none)

    async def _http1_loop(self):
        try:
            while not self.closed:
                try:
                    head = await self.reader.readuntil(b"\r\n\r\n")
                except asyncio.IncompleteReadError:
                    return
                lines = head.decode("latin-1").split("\r\n")
                method, target, _version = lines[0].split(" ", 2)
                headers = []
                for line in lines[1:]:
                    if line:
                        name, _, value = line.partition(":")
                        headers.append((name.strip().lower(), value.strip()))
                fields = dict(headers)
                length = int(fields.get("content-length", "0"))
                body = await self.reader.readexactly(length) if length else b""
                status, data = await handle(self, method, target, headers,
                                            body, "http/1.1")
                self.transport.write(
                    b"HTTP/1.1 %d X\r\nContent-Type: application/octet-stream"
                    b"\r\nContent-Length: %d\r\n\r\n" % (status, len(data))
                    + data)
        except (ValueError, asyncio.LimitOverrunError,
                asyncio.IncompleteReadError) as e:
            log.debug("connection %d: %s", self.id, e)
            self.transport.close()


# --------------------------------------------------------------------------
# Commands

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


def remove_file(path):
    try:
        os.unlink(path)
    except (FileNotFoundError, TypeError):
        pass


async def serve(args):
    tls_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls_ctx.load_cert_chain(CERT_FILE, KEY_FILE)
    tls_ctx.set_alpn_protocols(["h2", "http/1.1"])
    loop = asyncio.get_running_loop()
    tls_server = await loop.create_server(lambda: Connection(True),
                                          "127.0.0.1", 0, ssl=tls_ctx,
                                          backlog=1024)
    plain_server = await loop.create_server(lambda: Connection(False),
                                            "127.0.0.1", 0, backlog=1024)
    ports = [s.sockets[0].getsockname()[1] for s in (tls_server, plain_server)]
    if args.pid_file:
        write_atomic(args.pid_file, "%d\n" % os.getpid())
    if args.port_file:          # last: its presence means "ready"
        write_atomic(args.port_file, "%d %d\n" % tuple(ports))
    print("h2 listening on https://127.0.0.1:%d/ and http://127.0.0.1:%d/"
          % tuple(ports), flush=True)
    stop = loop.create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, lambda: stop.done() or stop.set_result(0))
    if args.max_lifetime > 0:
        loop.call_later(args.max_lifetime,
                        lambda: stop.done() or stop.set_result(0))
    await stop
    remove_file(args.port_file)
    remove_file(args.pid_file)


def cmd_serve(args):
    asyncio.run(serve(args))
    os._exit(0)


def pid_of(pid_file):
    text = read_text(pid_file)
    return int(text) if text and text.strip().isdigit() else None


def is_ours(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return b"h2_server.py" in f.read()
    except OSError:
        return False


def cmd_stop(args):
    port_file = os.path.abspath(args.port_file)
    pid_file = os.path.abspath(args.pid_file or port_file + ".pid")
    pid = pid_of(pid_file)
    if pid and is_ours(pid):
        try:
            os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + STOP_TIMEOUT
            while is_ours(pid) and time.monotonic() < deadline:
                time.sleep(0.02)
            if is_ours(pid):
                os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    remove_file(port_file)
    remove_file(pid_file)
    return 0


def cmd_start(args):
    cmd_stop(args)              # leftovers of an earlier run
    port_file = os.path.abspath(args.port_file)
    pid_file = os.path.abspath(args.pid_file or port_file + ".pid")
    cmd = [sys.executable, os.path.abspath(__file__), "serve",
           "--port-file", port_file, "--pid-file", pid_file,
           "--max-lifetime", str(args.max_lifetime)]
    if args.verbose:
        cmd.append("--verbose")
    log_path = os.path.abspath(args.log) if args.log else os.devnull
    with open(log_path, "ab") as out:
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out,
                                stderr=subprocess.STDOUT, close_fds=True,
                                start_new_session=True, cwd="/")
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        text = read_text(port_file)
        if text and text.endswith("\n"):
            print("h2 test server pid %d: ports %s" % (proc.pid, text.strip()))
            proc.returncode = 0     # detached on purpose
            return 0
        if proc.poll() is not None:
            print("h2 test server exited early with status %d" % proc.returncode,
                  file=sys.stderr)
            return 1
        time.sleep(0.02)
    print("h2 test server did not start within %gs" % START_TIMEOUT,
          file=sys.stderr)
    proc.kill()
    proc.wait()
    return 1


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("serve", "start", "stop"):
        p = sub.add_parser(name)
        p.add_argument("--port-file", required=name != "serve")
        p.add_argument("--pid-file")
        if name != "stop":
            p.add_argument("--max-lifetime", type=float, default=1800.0)
            p.add_argument("--verbose", action="store_true")
        if name == "start":
            p.add_argument("--log")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if getattr(args, "verbose", False)
        else logging.WARNING,
        format="%(asctime)s h2_server[%(process)d] %(levelname)s %(message)s")
    if args.command != "stop" and h2 is None:
        print("h2_server.py needs the Python package h2 (%s) in %s: "
              "scripts/ensure-tools.sh installs it (Debian: python3-h2; "
              "else: %s -m pip install --user h2)"
              % (H2_IMPORT_ERROR, sys.executable, sys.executable),
              file=sys.stderr)
        return 1
    return {"serve": cmd_serve, "start": cmd_start, "stop": cmd_stop}[
        args.command](args)


if __name__ == "__main__":
    sys.exit(main())
