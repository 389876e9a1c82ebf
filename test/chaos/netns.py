"""netns.py - the chaos test's private network: network namespaces, veth
pairs and a bridge, and the network faults (nemeses) applied to them.

Layout (every name carries the run's tag, so concurrent runs never meet):

    <tag>sw     a namespace holding only the bridge "br0"
    <tag>r1..N  one namespace per replica, address 10.77.0.<10+i>
    <tag>c1..N  client namespaces, "near" replica i, address 10.77.0.<50+i>
    <tag>ctl    the control namespace (the driver's checks and monitor),
                address 10.77.0.2; never partitioned

Each namespace has one veth "eth0" whose peer is a port of br0 in the
switch namespace.  Nothing is created in the root namespace, and no address
leaves these namespaces (none has a route out).  Faults are nftables rules
in each namespace's own table "inet chaos" (drops by peer address, random
loss with numgen) and, for delay and reordering, an NFQUEUE verdict delayer
(build/chaos/nfq-delay) run inside the namespace; the kernel here has no
netem.  Network.destroy() removes every namespace (and so every interface,
rule and queue in them); the driver calls it from a finally block and from
its signal handlers.
"""

import ctypes
import os
import random
import signal
import subprocess
import time

SUBNET = "10.77.0"


def run(cmd, check=True, quiet=False, input=None):
    """Runs a command (a list); returns its CompletedProcess."""
    p = subprocess.run(cmd, capture_output=True, text=True, input=input)
    if check and p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: exit {p.returncode}: {p.stderr.strip()}")
    return p


class Network:
    """The namespaces of one chaos run and the faults on them."""

    def __init__(self, tag, nreplicas, delayer=None):
        self.tag = tag
        self.n = nreplicas
        self.delayer = delayer
        self.created = []
        self.delayers = {}           # namespace -> Popen
        self.sw = tag + "sw"
        self.ctl = tag + "ctl"

    # ---- names and addresses -------------------------------------------
    def rns(self, i):
        return f"{self.tag}r{i}"

    def cns(self, i):
        return f"{self.tag}c{i}"

    @staticmethod
    def raddr(i):
        return f"{SUBNET}.{10 + i}"

    @staticmethod
    def caddr(i):
        return f"{SUBNET}.{50 + i}"

    def all_nodes(self):
        """(namespace, address) of every replica and client namespace."""
        nodes = [(self.rns(i), self.raddr(i)) for i in range(1, self.n + 1)]
        nodes += [(self.cns(i), self.caddr(i)) for i in range(1, self.n + 1)]
        return nodes

    # ---- set-up and tear-down --------------------------------------------
    def _add_ns(self, name):
        run(["ip", "netns", "add", name])
        self.created.append(name)
        run(["ip", "-n", name, "link", "set", "lo", "up"])

    def _attach(self, name, addr, port):
        run(["ip", "link", "add", "eth0", "netns", name, "type", "veth",
             "peer", "name", port, "netns", self.sw])
        run(["ip", "-n", self.sw, "link", "set", port, "master", "br0"])
        run(["ip", "-n", self.sw, "link", "set", port, "up"])
        run(["ip", "-n", name, "addr", "add", f"{addr}/24", "dev", "eth0"])
        run(["ip", "-n", name, "link", "set", "eth0", "up"])
        # Our own table; the base chains drop nothing until rules go in.
        run(["ip", "netns", "exec", name, "nft", "-f", "-"], input=(
            "table inet chaos {\n"
            "  chain in { type filter hook input priority 0; policy accept; }\n"
            "  chain out { type filter hook output priority 0; policy accept; }\n"
            "}\n"))

    def create(self):
        self._add_ns(self.sw)
        run(["ip", "-n", self.sw, "link", "add", "br0", "type", "bridge"])
        run(["ip", "-n", self.sw, "link", "set", "br0", "up"])
        self._add_ns(self.ctl)
        self._attach(self.ctl, f"{SUBNET}.2", "pctl")
        for ns, addr in self.all_nodes():
            self._add_ns(ns)
            self._attach(ns, addr, "p" + ns[len(self.tag):])

    def destroy(self):
        for p in list(self.delayers.values()):
            _kill(p)
        self.delayers.clear()
        for name in reversed(self.created):
            run(["ip", "netns", "del", name], check=False)
        self.created.clear()

    def exec_cmd(self, ns, argv):
        """argv run inside namespace ns (ip netns exec keeps the PID)."""
        return ["ip", "netns", "exec", ns] + list(argv)

    # ---- faults ------------------------------------------------------------
    def _nft(self, ns, script):
        run(["ip", "netns", "exec", ns, "nft", "-f", "-"], input=script)

    def heal(self):
        """Removes every network fault."""
        for p in list(self.delayers.values()):
            _kill(p)
        self.delayers.clear()
        for ns, _ in self.all_nodes():
            self._nft(ns, "flush chain inet chaos in\nflush chain inet chaos out\n")
            run(["ip", "netns", "exec", ns, "iptables", "-F", "OUTPUT"], check=False)

    def cut(self, pairs):
        """Drops all traffic in both directions between each (a, b) pair of
        node addresses (the cut is made in both namespaces)."""
        rules = {}
        for a, b in pairs:
            rules.setdefault(a, set()).add(b)
            rules.setdefault(b, set()).add(a)
        self._apply_drops(rules, both=True)

    def cut_one_way(self, pairs):
        """Drops packets from a to b for each (a, b): b's replies and
        everything b sends still reach a."""
        rules = {}
        for a, b in pairs:
            rules.setdefault(a, set()).add(b)
        self._apply_drops(rules, both=False)

    def _apply_drops(self, rules, both):
        by_addr = {addr: ns for ns, addr in self.all_nodes()}
        for a, peers in rules.items():
            ns = by_addr[a]
            peers_s = ", ".join(sorted(peers))
            script = f"add rule inet chaos out ip daddr {{ {peers_s} }} drop\n"
            if both:
                script += f"add rule inet chaos in ip saddr {{ {peers_s} }} drop\n"
            self._nft(ns, script)

    def partition(self, sides):
        """sides: a list of sets of addresses; every pair of addresses on
        different sides is cut.  Addresses on no side keep every link (a
        bridge node sees both sides)."""
        pairs = []
        for i, s1 in enumerate(sides):
            for s2 in sides[i + 1:]:
                pairs += [(a, b) for a in s1 for b in s2]
        self.cut(pairs)

    def loss(self, addr, percent):
        """Random loss of `percent` % of the packets addr sends."""
        ns = {a: n for n, a in self.all_nodes()}[addr]
        self._nft(ns, f"add rule inet chaos out ip daddr {SUBNET}.0/24 "
                      f"numgen random mod 100 < {int(percent)} drop\n")

    def delay(self, addr, delay_ms, jitter_ms, loss_percent=0, seed=0):
        """Every packet addr sends to the subnet is held delay_ms +-
        jitter_ms (jitter reorders packets), optionally some dropped."""
        if not self.delayer:
            raise RuntimeError("no packet delayer built")
        ns = {a: n for n, a in self.all_nodes()}[addr]
        if ns in self.delayers:
            return
        p = subprocess.Popen(self.exec_cmd(ns, [self.delayer, "0", str(delay_ms), str(jitter_ms),
                                                str(loss_percent), str(seed)]),
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             preexec_fn=die_with_parent)
        self.delayers[ns] = p
        time.sleep(0.1)   # let it bind the queue before packets go to it
        # --queue-bypass: if the delayer dies, packets flow instead of dropping.
        run(["ip", "netns", "exec", ns, "iptables", "-A", "OUTPUT", "-d", f"{SUBNET}.0/24",
             "-j", "NFQUEUE", "--queue-num", "0", "--queue-bypass"])


def die_with_parent():
    """preexec_fn of every child process: it gets SIGKILL when the driver
    dies (even by SIGKILL), so nothing outlives a run."""
    ctypes.CDLL(None).prctl(1, signal.SIGKILL)      # PR_SET_PDEATHSIG


def _kill(p):
    try:
        p.send_signal(signal.SIGTERM)
        p.wait(timeout=3)
    except (OSError, subprocess.TimeoutExpired):
        try:
            p.kill()
            p.wait(timeout=3)
        except (OSError, subprocess.TimeoutExpired):
            pass


def leftover_namespaces(tag_prefix):
    """Namespaces whose name starts with tag_prefix (for a check at the end)."""
    out = run(["ip", "netns", "list"], check=False).stdout
    return [line.split()[0] for line in out.splitlines() if line.startswith(tag_prefix)]


def make_tag():
    """A short tag unique to this run: $CHAOS_TAG if set (the make-test
    wrapper names it, to clean up after a SIGKILL), else from the PID."""
    return os.environ.get("CHAOS_TAG") or f"zc{os.getpid() % 100000}{random.choice('abcdefghjk')}"
