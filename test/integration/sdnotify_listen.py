#!/usr/bin/python3
"""sdnotify_listen.py SOCKET SECONDS COMMAND...

Plays systemd's side of sd_notify: binds a unix datagram socket at SOCKET,
runs COMMAND with NOTIFY_SOCKET=SOCKET, prints every message it sends
(one per line, newlines inside a message shown as '|'), and once READY=1
has arrived (or SECONDS passed) stops COMMAND with SIGTERM and prints what
follows until it exits.  Exit status 0 if READY=1 arrived and then
STOPPING=1, else 1.
"""
import os
import signal
import socket
import subprocess
import sys
import time

path, seconds, cmd = sys.argv[1], float(sys.argv[2]), sys.argv[3:]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
proc = subprocess.Popen(cmd, env=dict(os.environ, NOTIFY_SOCKET=path),
                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
ready = stopping = False
deadline = time.time() + seconds
try:
    while time.time() < deadline and not ready:
        s.settimeout(max(0.1, deadline - time.time()))
        try:
            msg = s.recv(4096).decode()
        except socket.timeout:
            break
        print(msg.replace('\n', '|'), flush=True)
        ready = 'READY=1' in msg.split('\n')
    proc.send_signal(signal.SIGTERM)
    s.settimeout(10)
    while True:
        try:
            msg = s.recv(4096).decode()
        except socket.timeout:
            break
        print(msg.replace('\n', '|'), flush=True)
        if 'STOPPING=1' in msg.split('\n'):
            stopping = True
            break
finally:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    s.close()
    os.unlink(path)
sys.exit(0 if ready and stopping else 1)
