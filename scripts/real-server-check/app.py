"""One tier of the real chain (front -> middle -> db), a tiny WSGI app for gunicorn's gthread worker.

Configured by environment variables, so the three tiers are one file:
  TIER          name written into the stats file (front, middle, db)
  CPU_MS        CPU work per request, in thread CPU time (a busy loop), default 0
  NEXT          host:port of the next tier to call (absent for the db)
  CALL_TIMEOUT  seconds: a total deadline on the call to NEXT (connect + read), as cascade's `timeout`
  SLEEP_MS      I/O wait per request (time.sleep: holds the thread, uses no CPU), default 0
  FAULT_FILE    while this file exists, the sleep is FAULT_FACTOR times longer (the db's fault)
  FAULT_FACTOR  default 10
  STATS_FILE    where to append one line per wall-clock second: busy threads (time-weighted mean
                and max), requests finished, errors answered

The busy-thread figure is kept by the app itself (a counter changed on entry and exit, integrated
over time) and written by a background thread, so sampling it never needs a free worker thread:
a /stats endpoint would queue behind the very requests it should count.
"""

import http.client
import os
import socket
import threading
import time

TIER = os.environ.get("TIER", "tier")
CPU_S = float(os.environ.get("CPU_MS", "0")) / 1000.0
NEXT = os.environ.get("NEXT", "")
CALL_TIMEOUT = float(os.environ.get("CALL_TIMEOUT", "1"))
SLEEP_S = float(os.environ.get("SLEEP_MS", "0")) / 1000.0
FAULT_FILE = os.environ.get("FAULT_FILE", "")
FAULT_FACTOR = float(os.environ.get("FAULT_FACTOR", "10"))
STATS_FILE = os.environ.get("STATS_FILE", "")


class BusyMeter:
    """Time-weighted busy threads per wall-clock second."""

    def __init__(self):
        self.lock = threading.Lock()
        self.busy = 0
        self.peak = 0
        self.last = time.time()
        self.area = 0.0
        self.done = 0
        self.errors = 0

    def _advance(self, now):
        self.area += self.busy * (now - self.last)
        self.last = now

    def enter(self):
        with self.lock:
            self._advance(time.time())
            self.busy += 1
            self.peak = max(self.peak, self.busy)

    def leave(self, ok):
        with self.lock:
            self._advance(time.time())
            self.busy -= 1
            self.done += 1
            if not ok:
                self.errors += 1

    def flush(self, second_end):
        """Close the window ending at `second_end` and return its figures."""
        with self.lock:
            self._advance(second_end)
            row = (self.area, self.peak, self.done, self.errors)
            self.area, self.peak, self.done, self.errors = 0.0, self.busy, 0, 0
            return row


METER = BusyMeter()


def _writer():
    with open(STATS_FILE, "a", buffering=1) as out:
        second = int(time.time()) + 1
        while True:
            time.sleep(max(0.0, second - time.time()))
            area, peak, done, errors = METER.flush(float(second))
            # window [second-1, second): busy_mean is area over 1 s
            out.write(f"{second - 1},{TIER},{area:.4f},{peak},{done},{errors}\n")
            second += 1


if STATS_FILE:
    threading.Thread(target=_writer, daemon=True).start()


def _burn_cpu(seconds):
    end = time.thread_time() + seconds
    while time.thread_time() < end:
        pass


def _call_next():
    """GET / on the next tier within a total deadline; returns an error kind or None."""
    host, port = NEXT.rsplit(":", 1)
    deadline = time.monotonic() + CALL_TIMEOUT
    conn = http.client.HTTPConnection(host, int(port), timeout=CALL_TIMEOUT)
    try:
        conn.connect()
        # what is left of the deadline bounds the read: a total deadline, not a per-read one
        conn.sock.settimeout(max(0.001, deadline - time.monotonic()))
        conn.request("GET", "/", headers={"Connection": "close"})
        resp = conn.getresponse()
        resp.read()
        return None if resp.status == 200 else f"status{resp.status}"
    except (socket.timeout, TimeoutError):
        return "timeout"
    except ConnectionRefusedError:
        return "refused"
    except (ConnectionResetError, BrokenPipeError, http.client.RemoteDisconnected):
        return "reset"
    except OSError as e:
        return f"oserror{e.errno}"
    finally:
        conn.close()


def app(environ, start_response):
    METER.enter()
    ok = True
    try:
        if CPU_S > 0:
            _burn_cpu(CPU_S)
        if SLEEP_S > 0:
            slow = FAULT_FILE and os.path.exists(FAULT_FILE)
            time.sleep(SLEEP_S * (FAULT_FACTOR if slow else 1.0))
        error = _call_next() if NEXT else None
        if error is None:
            start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "3")])
            return [b"ok\n"]
        ok = False
        body = f"{TIER}: next tier failed: {error}\n".encode()
        start_response(
            "502 Bad Gateway",
            [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))],
        )
        return [body]
    finally:
        METER.leave(ok)
