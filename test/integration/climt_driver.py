#!/usr/bin/python3
"""climt_driver.py — drives the official C client's shell, cli_mt (Debian
package zookeeper-bin), through its stdin and asserts on what it prints.

cli_mt executes each stdin line at once, asynchronously, even before its
session is connected, and prints results on stderr as they complete.  So the
driver waits for "CONNECTED_STATE", then sends one command at a time and
waits (bounded) for the line pattern that shows its result before sending
the next.  Finally it checks the end state with kazoo.

Usage: /usr/bin/python3 climt_driver.py HOST:PORT
Exit status 1 on the first mismatch, with the transcript so far.
"""

import queue
import re
import subprocess
import sys
import threading
import time

from kazoo.client import KazooClient

CLI_MT = "/usr/lib/zookeeper/bin/cli_mt"
HOSTS = sys.argv[1]

proc = subprocess.Popen([CLI_MT, HOSTS], stdin=subprocess.PIPE,
                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
lines = queue.Queue()
transcript = []


def reader():
    for raw in proc.stdout:
        lines.put(raw.decode("utf-8", "replace"))
    lines.put(None)


threading.Thread(target=reader, daemon=True).start()


def fail(message):
    print(f"FAIL {message}\n--- cli_mt transcript:\n{''.join(transcript)}",
          flush=True)
    if proc.poll() is None:
        proc.kill()
    raise SystemExit(1)


def read_until(pattern, seconds=10.0):
    """Collect output lines until the text gathered since the call matches
    pattern (a regex, MULTILINE); return that text."""
    text = ""
    deadline = time.monotonic() + seconds
    while True:
        match = re.search(pattern, text, re.MULTILINE)
        if match:
            return text, match
        left = deadline - time.monotonic()
        if left <= 0:
            fail(f"no output matching {pattern!r} within {seconds} s; got "
                 f"{text!r}")
        try:
            line = lines.get(timeout=left)
        except queue.Empty:
            continue
        if line is None:
            fail(f"cli_mt exited while waiting for {pattern!r}; got {text!r}")
        transcript.append(line)
        text += line


def command(cmd, pattern, name=None):
    """Send one command line and wait for its result pattern."""
    transcript.append(f"> {cmd}\n")
    proc.stdin.write(cmd.encode() + b"\n")
    proc.stdin.flush()
    text, match = read_until(pattern)
    text += drain()
    print(f"ok   {name or cmd}", flush=True)
    return text, match


def drain(quiet=0.4):
    """Collect the output that follows within `quiet` seconds of silence."""
    text = ""
    while True:
        try:
            line = lines.get(timeout=quiet)
        except queue.Empty:
            return text
        if line is None:
            lines.put(None)
            return text
        transcript.append(line)
        text += line


def listed_children(text, path):
    """Children printed by "ls PATH": tab-indented lines after "PATH: rc = 0"."""
    block = text.split(f"{path}: rc = 0\n", 1)[1]
    return sorted(line[1:] for line in block.splitlines()
                  if line.startswith("\t"))


def main():
    read_until(r"state = CONNECTED_STATE")
    read_until(r"^Got a new session id: 0x[0-9a-f]+$")
    print("ok   connected", flush=True)
    command("create /m", r"^\[/m\]: rc = 0\n\tname = /m$")
    command("get /m", r"^/m: rc = 0\n value_len = 3\nnew\nStat:\n"
            r"(?:.*\n)*?\tversion=0\taversion=0$")
    text, _ = command("set /m hello",
                      r"^/m: rc = 0 Stat:\n(?:.*\n)*?\tversion=1\taversion=0$")
    # "get" left a watch: the set fires it (before or after the reply line)
    if "CHANGED_EVENT" not in text:
        read_until(r"Watcher CHANGED_EVENT state = CONNECTED_STATE for path "
                   r"/m$")
    print("ok   data watch of get fired by set", flush=True)
    command("get /m", r"^/m: rc = 0\n value_len = 5\nhello\nStat:\n"
            r"(?:.*\n)*?\tversion=1\taversion=0$", "get /m after set")
    text, _ = command("ls /", r"^/: rc = 0\n(?:\t.*\n){2}")
    if listed_children(text, "/") != ["m", "zookeeper"]:
        fail(f"ls / listed {listed_children(text, '/')}")
    command("create +e /m/e", r"^\[/m/e\]: rc = 0\n\tname = /m/e$")
    command("create +s /m/s-", r"^\[/m/s-\]: rc = 0\n\tname = "
            r"/m/s-0000000001$")
    command("create +es /m/es-", r"^\[/m/es-\]: rc = 0\n\tname = "
            r"/m/es-0000000002$")
    text, _ = command("ls /m", r"^/m: rc = 0\n(?:\t.*\n){3}")
    if listed_children(text, "/m") != ["e", "es-0000000002", "s-0000000001"]:
        fail(f"ls /m listed {listed_children(text, '/m')}")
    command("exists /nope", r"^Error -101 for /nope$")
    command("create /m", r"^\[/m\]: rc = -110$", "create existing -> -110")
    command("delete /m", r"^/m: rc = -111$", "delete non-empty -> -111")
    command("create /m/e/x", r"^\[/m/e/x\]: rc = -108$",
            "child of ephemeral -> -108")
    command("delete /m/e", r"^/m/e: rc = 0$")
    command("get /m/e", r"^/m/e: rc = -101$", "get deleted -> -101")
    command("quit", r"^Quitting\.\.\.$")
    try:
        code = proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        fail("cli_mt did not exit within 10 s of quit")
    if code != 0:
        fail(f"cli_mt exit status {code}")
    print("ok   quit: exit status 0", flush=True)

    # End state, seen by another client: the session's ephemerals are gone.
    zk = KazooClient(hosts=HOSTS, timeout=10.0)
    zk.start(timeout=15)
    try:
        state = (zk.get("/m")[0], sorted(zk.get_children("/m")))
    finally:
        zk.stop()
        zk.close()
    if state != (b"hello", ["s-0000000001"]):
        fail(f"after quit: expected (b'hello', ['s-0000000001']), got {state}")
    print("ok   end state seen by kazoo (ephemerals gone)", flush=True)
    print("cli_mt: all checks passed", flush=True)


if __name__ == "__main__":
    try:
        main()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
