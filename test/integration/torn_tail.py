#!/usr/bin/python3
"""torn_tail.py - a torn last record at every byte offset of the log tail,
recovered by a real zkserver.

    torn_tail.py SERVER WORKDIR [CUT_STEP [ZERO_STEP]]

Makes a standalone data directory with 40 znodes (creates through kazoo,
then a kill -9, so the last record is the last create), finds the last record of the last log file (the format
is in docs/formats.md: a 32-byte header, then frames of u32 length, u32
crc, u64 zxid, payload), and for every CUT_STEP-th byte offset inside that
record (default 1: every one; every ZERO_STEP-th, default 4, for the
zero-filled variant) starts the server on a copy whose log is torn there: cut at the offset, or zero-filled from the offset to the
record's end (the preallocated space a write never reached).  Each start
must come up (srvr answers), report the zxid of the record before as its
last zxid, and log the cut ("torn tail at offset") whenever a byte of the
record survived; the first start of each variant is checked with kazoo
too (the last znode absent, the one before present).  Prints one summary
line; exit 0, or 1 with the first failure.
"""

import os
import shutil
import socket
import struct
import subprocess
import sys
import logging
import time

from kazoo.client import KazooClient

logging.getLogger("kazoo").setLevel(logging.CRITICAL)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def srvr(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
            s.sendall(b"srvr")
            out = b""
            while True:
                b = s.recv(4096)
                if not b:
                    return out.decode()
                out += b
    except OSError:
        return ""


def start(server, d, port):
    cfg = os.path.join(d, "zoo.cfg")
    with open(cfg, "w") as f:
        f.write(f"tickTime=2000\ndataDir={d}/data\nclientPort={port}\nclientPortAddress=127.0.0.1\n"
                "4lw.commands.whitelist=*\nadmin.enableServer=false\nsnapCount=100000\n")
    log = open(os.path.join(d, "server.log"), "a")
    p = subprocess.Popen([server, cfg], stdout=log, stderr=subprocess.STDOUT)
    log.close()
    for _ in range(200):
        out = srvr(port)
        if "Zxid: " in out:
            return p, out
        if p.poll() is not None:
            return p, None
        time.sleep(0.02)
    return p, None


def stop(p):
    p.terminate()
    try:
        p.wait(timeout=10)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()


def records(path):
    data = open(path, "rb").read()
    pos, out = 32, []
    while pos + 16 <= len(data):
        length = struct.unpack(">I", data[pos:pos + 4])[0]
        if length == 0:
            break
        zxid = struct.unpack(">Q", data[pos + 8:pos + 16])[0]
        out.append((pos, pos + 8 + length, zxid))
        pos += 8 + length
    return data, out


def main():
    server, work = sys.argv[1], sys.argv[2]
    cut_step = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    step = int(sys.argv[4]) if len(sys.argv) > 4 else 4
    base = os.path.join(work, "base")
    os.makedirs(os.path.join(base, "data"))
    port = free_port()
    p, out = start(server, base, port)
    if out is None:
        print("torn-tail: the server did not start", file=sys.stderr)
        return 1
    zk = KazooClient(hosts=f"127.0.0.1:{port}")
    zk.start(timeout=10)
    for i in range(40):
        zk.create(f"/t{i:02d}", b"x" * (i % 7))
    p.kill()               # the last record stays the create of /t39
    p.wait()
    zk.stop()
    zk.close()
    logdir = os.path.join(base, "data", "zkfs-v1")
    logs = sorted(f for f in os.listdir(logdir) if f.startswith("log."))
    data, recs = records(os.path.join(logdir, logs[-1]))
    (start_off, end_off, last_zxid), prev_zxid = recs[-1], recs[-2][2]
    tried = 0
    for variant in ("cut", "zeros"):
        offsets = range(start_off, end_off, cut_step if variant == "cut" else step)
        for n, off in enumerate(offsets):
            d = os.path.join(work, "try")
            shutil.rmtree(d, ignore_errors=True)
            shutil.copytree(base, d)
            os.remove(os.path.join(d, "server.log"))
            lf = os.path.join(d, "data", "zkfs-v1", logs[-1])
            with open(lf, "r+b") as f:
                if variant == "cut":
                    f.truncate(off)
                else:
                    f.seek(off)
                    f.write(b"\0" * (end_off - off))
            p, out = start(server, d, port)
            why = None
            if out is None:
                why = "did not start"
            else:
                got = [line for line in out.splitlines() if line.startswith("Zxid: ")][0].split()[1]
                if int(got, 16) != prev_zxid:
                    why = f"last zxid {got}, expected {prev_zxid:#x}"
                elif n == 0 or off == start_off + (end_off - start_off) // 2:
                    zk = KazooClient(hosts=f"127.0.0.1:{port}")
                    zk.start(timeout=10)
                    if zk.exists("/t39") is not None or zk.exists("/t38") is None:
                        why = "wrong znodes after recovery"
                    zk.stop()
                    zk.close()
            stop(p)
            text = open(os.path.join(d, "server.log"), errors="replace").read()
            visible = any(b != 0 for b in data[start_off:off])
            if why is None and visible and "torn tail at offset" not in text:
                why = "no torn-tail line in the log"
            if why is None and ("ERROR: AddressSanitizer" in text or "runtime error:" in text):
                why = "sanitizer report"
            if why:
                print(f"torn-tail: {variant} at offset {off} (record {start_off}..{end_off}): {why}\n"
                      + text[-2000:], file=sys.stderr)
                return 1
            tried += 1
    print(f"torn-tail: {tried} recoveries of the last record ({end_off - start_off} bytes) torn at "
          f"every {cut_step} offset(s) (cut) and every {step} (zero-filled): ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
