// CuratorSuite.java — drives one ZooKeeper server through Apache Curator
// (Debian libcurator-*-java 5.4.0, unmodified) and prints one normalised line
// per observation on stdout: no session ids, times or absolute zxids, only
// values and relations that must be identical on Apache ZooKeeper 3.8 and on
// bin/zkserver.  test_curator.sh runs it against both and diffs the output.
// Every observation is also checked against its expected value; a failed
// check prints "CHECK FAILED ..." on stderr and the program exits 1.
//
// Usage: java CuratorSuite HOST:PORT

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.api.transaction.CuratorTransactionResult;
import org.apache.curator.framework.recipes.atomic.AtomicValue;
import org.apache.curator.framework.recipes.atomic.DistributedAtomicLong;
import org.apache.curator.framework.recipes.cache.ChildData;
import org.apache.curator.framework.recipes.cache.CuratorCache;
import org.apache.curator.framework.recipes.cache.CuratorCacheListener;
import org.apache.curator.framework.recipes.cache.PathChildrenCache;
import org.apache.curator.framework.recipes.leader.LeaderLatch;
import org.apache.curator.framework.recipes.leader.LeaderSelector;
import org.apache.curator.framework.recipes.leader.LeaderSelectorListenerAdapter;
import org.apache.curator.framework.recipes.locks.InterProcessMutex;
import org.apache.curator.framework.recipes.nodes.PersistentNode;
import org.apache.curator.framework.recipes.nodes.PersistentTtlNode;
import org.apache.curator.framework.recipes.shared.SharedCount;
import org.apache.curator.framework.recipes.shared.VersionedValue;
import org.apache.curator.retry.ExponentialBackoffRetry;
import org.apache.curator.retry.RetryNTimes;
import org.apache.zookeeper.AddWatchMode;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.WatchedEvent;
import org.apache.zookeeper.data.Stat;

public class CuratorSuite {
    private static String hosts;
    private static int failures = 0;
    /** Every client opened by newClient(); closed at the end. */
    private static final List<CuratorFramework> clients = new ArrayList<>();

    /** Prints one observation line. */
    private static synchronized void out(String line) { System.out.println(line); }

    /** Records a failed check unless actual equals expected; prints the observation. */
    private static void expect(String what, Object actual, Object expected) {
        out(what + " = " + actual);
        if (!String.valueOf(actual).equals(String.valueOf(expected))) {
            System.err.println("CHECK FAILED " + what + ": got " + actual + ", expected " + expected);
            failures++;
        }
    }

    private static byte[] b(String s) { return s.getBytes(StandardCharsets.UTF_8); }
    private static String s(byte[] d) { return d == null ? "null" : new String(d, StandardCharsets.UTF_8); }

    /** A started client with a 10 s session, connected within 10 s. */
    private static CuratorFramework newClient() throws Exception {
        CuratorFramework c = CuratorFrameworkFactory.builder()
            .connectString(hosts).defaultData(new byte[0]).sessionTimeoutMs(10000).connectionTimeoutMs(5000)
            .retryPolicy(new ExponentialBackoffRetry(100, 3)).build();
        c.start();
        if (!c.blockUntilConnected(10, TimeUnit.SECONDS)) throw new IllegalStateException("not connected");
        clients.add(c);
        return c;
    }

    /** Stat fields that are the same on every server (no times, no zxids, no session id). */
    private static String stat(Stat st) {
        return "v=" + st.getVersion() + " cv=" + st.getCversion() + " av=" + st.getAversion()
            + " len=" + st.getDataLength() + " nc=" + st.getNumChildren()
            + " eph=" + (st.getEphemeralOwner() != 0) + " mz>=cz=" + (st.getMzxid() >= st.getCzxid())
            + " pz>=cz=" + (st.getPzxid() >= st.getCzxid());
    }

    /** Waits up to ms milliseconds for cond; returns its last value. */
    private static boolean waitFor(long ms, java.util.function.BooleanSupplier cond) throws InterruptedException {
        long end = System.currentTimeMillis() + ms;
        while (System.currentTimeMillis() < end) {
            if (cond.getAsBoolean()) return true;
            Thread.sleep(20);
        }
        return cond.getAsBoolean();
    }

    private static String code(Exception e) {
        return e instanceof KeeperException ? ((KeeperException) e).code().toString() : e.getClass().getSimpleName();
    }

    // ---------------------------------------------------------------- CRUD
    private static void crud(CuratorFramework c) throws Exception {
        String p = c.create().creatingParentsIfNeeded().forPath("/cur/a/b/c", b("hello"));
        expect("crud.create.path", p, "/cur/a/b/c");
        Stat st = new Stat();
        expect("crud.get", s(c.getData().storingStatIn(st).forPath("/cur/a/b/c")), "hello");
        expect("crud.get.stat", stat(st), "v=0 cv=0 av=0 len=5 nc=0 eph=false mz>=cz=true pz>=cz=true");
        long czxid = st.getCzxid();
        expect("crud.parent.data", s(c.getData().forPath("/cur/a/b")).length(), 0);
        Stat st2 = c.setData().withVersion(0).forPath("/cur/a/b/c", b("world"));
        expect("crud.set.stat", stat(st2), "v=1 cv=0 av=0 len=5 nc=0 eph=false mz>=cz=true pz>=cz=true");
        expect("crud.set.mzxid-czxid", st2.getMzxid() - czxid, 1);
        try {
            c.setData().withVersion(0).forPath("/cur/a/b/c", b("x"));
            expect("crud.set.badversion", "no error", "BADVERSION");
        } catch (KeeperException e) { expect("crud.set.badversion", code(e), "BADVERSION"); }
        try {
            c.create().forPath("/cur/a/b/c");
            expect("crud.create.exists", "no error", "NODEEXISTS");
        } catch (KeeperException e) { expect("crud.create.exists", code(e), "NODEEXISTS"); }
        try {
            c.create().forPath("/cur/missing/x");
            expect("crud.create.noparent", "no error", "NONODE");
        } catch (KeeperException e) { expect("crud.create.noparent", code(e), "NONODE"); }
        expect("crud.exists.missing", c.checkExists().forPath("/cur/nope"), null);
        expect("crud.exists.stat", stat(c.checkExists().forPath("/cur/a")),
               "v=0 cv=1 av=0 len=0 nc=1 eph=false mz>=cz=true pz>=cz=true");
        c.create().forPath("/cur/a/b/d");
        c.create().forPath("/cur/a/b/e");
        List<String> kids = new ArrayList<>(c.getChildren().forPath("/cur/a/b"));
        Collections.sort(kids);
        expect("crud.children", kids, "[c, d, e]");
        try {
            c.delete().forPath("/cur/a/b");
            expect("crud.delete.notempty", "no error", "NOTEMPTY");
        } catch (KeeperException e) { expect("crud.delete.notempty", code(e), "NOTEMPTY"); }
        c.delete().deletingChildrenIfNeeded().forPath("/cur/a");
        expect("crud.deleteall", c.checkExists().forPath("/cur/a"), null);

        // ephemeral sequential, from two clients
        c.create().forPath("/cur/es");
        CuratorFramework c2 = newClient();
        List<String> seq = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            seq.add(c.create().withMode(CreateMode.EPHEMERAL_SEQUENTIAL).forPath("/cur/es/n-", b("e" + i)));
        }
        seq.add(c2.create().withMode(CreateMode.EPHEMERAL_SEQUENTIAL).forPath("/cur/es/n-"));
        expect("crud.ephseq.names", seq,
               "[/cur/es/n-0000000000, /cur/es/n-0000000001, /cur/es/n-0000000002, /cur/es/n-0000000003]");
        expect("crud.ephseq.stat", stat(c.checkExists().forPath(seq.get(0))),
               "v=0 cv=0 av=0 len=2 nc=0 eph=true mz>=cz=true pz>=cz=true");
        expect("crud.ephseq.owner", c.checkExists().forPath(seq.get(0)).getEphemeralOwner()
               == c.getZookeeperClient().getZooKeeper().getSessionId(), true);
        try {
            c.create().forPath(seq.get(0) + "/child");
            expect("crud.ephemeral.child", "no error", "NOCHILDRENFOREPHEMERALS");
        } catch (KeeperException e) { expect("crud.ephemeral.child", code(e), "NOCHILDRENFOREPHEMERALS"); }
        c2.close();
        clients.remove(c2);
        List<String> left = new ArrayList<>(c.getChildren().forPath("/cur/es"));
        Collections.sort(left);
        expect("crud.ephseq.after-close", left, "[n-0000000000, n-0000000001, n-0000000002]");
        expect("crud.ephseq.parent.cversion", c.checkExists().forPath("/cur/es").getCversion(), 5);

        // persistent sequential continues the parent's counter (cversion)
        // Apache: the session-close deletion bumps the parent's cversion as
        // seen by clients, but the next sequence number does not count it.
        expect("crud.perseq", c.create().withMode(CreateMode.PERSISTENT_SEQUENTIAL).forPath("/cur/es/p-"),
               "/cur/es/p-0000000004");

        // containers
        c.create().withMode(CreateMode.CONTAINER).forPath("/cur/cont");
        c.create().forPath("/cur/cont/kid");
        expect("crud.container.stat", stat(c.checkExists().forPath("/cur/cont")),
               "v=0 cv=1 av=0 len=0 nc=1 eph=false mz>=cz=true pz>=cz=true");
        c.create().creatingParentContainersIfNeeded().forPath("/cur/pc/x/y", b("y"));
        expect("crud.parentcontainers", s(c.getData().forPath("/cur/pc/x/y")), "y");
        // Apache keeps the container/TTL marker in ephemeralOwner internally
        // but shows clients 0 (DataNode's client ephemeral owner).
        expect("crud.container.owner", Long.toHexString(c.checkExists().forPath("/cur/cont").getEphemeralOwner()), "0");
        expect("crud.parentcontainer.owner", Long.toHexString(c.checkExists().forPath("/cur/pc").getEphemeralOwner()), "0");

        // create with stat (create2) and TTL
        Stat cs = new Stat();
        c.create().storingStatIn(cs).forPath("/cur/withstat", b("abc"));
        expect("crud.create2.stat", stat(cs), "v=0 cv=0 av=0 len=3 nc=0 eph=false mz>=cz=true pz>=cz=true");
        c.create().withTtl(60000).withMode(CreateMode.PERSISTENT_WITH_TTL).forPath("/cur/ttl", b("t"));
        expect("crud.ttl.owner", Long.toHexString(c.checkExists().forPath("/cur/ttl").getEphemeralOwner()), "0");
        expect("crud.ttl.data", s(c.getData().forPath("/cur/ttl")), "t");
        try {
            c.create().withTtl(0).withMode(CreateMode.PERSISTENT_WITH_TTL).forPath("/cur/ttl0");
            expect("crud.ttl.zero", "no error", "IllegalArgumentException");
        } catch (Exception e) { expect("crud.ttl.zero", code(e), "IllegalArgumentException"); }
    }

    // -------------------------------------------------------- transactions
    private static void transactions(CuratorFramework c) throws Exception {
        c.create().forPath("/cur/tx");
        List<CuratorTransactionResult> res = c.transaction().forOperations(
            c.transactionOp().create().forPath("/cur/tx/a", b("1")),
            c.transactionOp().create().withMode(CreateMode.PERSISTENT_SEQUENTIAL).forPath("/cur/tx/s-"),
            c.transactionOp().setData().withVersion(0).forPath("/cur/tx/a", b("2")),
            c.transactionOp().check().withVersion(1).forPath("/cur/tx/a"),
            c.transactionOp().create().forPath("/cur/tx/b"),
            c.transactionOp().delete().forPath("/cur/tx/b"));
        List<String> lines = new ArrayList<>();
        for (CuratorTransactionResult r : res) {
            lines.add(r.getType() + " " + r.getForPath() + " -> " + r.getResultPath()
                      + (r.getResultStat() != null ? " v=" + r.getResultStat().getVersion() : "") + " err=" + r.getError());
        }
        expect("tx.ok", lines, "[CREATE /cur/tx/a -> /cur/tx/a err=0, CREATE /cur/tx/s- -> /cur/tx/s-0000000001 err=0, "
               + "SET_DATA /cur/tx/a -> null v=1 err=0, CHECK /cur/tx/a -> null err=0, CREATE /cur/tx/b -> /cur/tx/b err=0, "
               + "DELETE /cur/tx/b -> null err=0]");
        expect("tx.ok.data", s(c.getData().forPath("/cur/tx/a")), "2");
        try {
            c.transaction().forOperations(
                c.transactionOp().create().forPath("/cur/tx/c"),
                c.transactionOp().setData().withVersion(7).forPath("/cur/tx/a", b("3")),
                c.transactionOp().delete().forPath("/cur/tx/a"));
            expect("tx.fail", "no error", "BADVERSION");
        } catch (KeeperException e) {
            expect("tx.fail", code(e), "BADVERSION");
            List<String> errs = new ArrayList<>();
            if (e.getResults() != null) for (org.apache.zookeeper.OpResult r : e.getResults()) {
                errs.add(r instanceof org.apache.zookeeper.OpResult.ErrorResult
                         ? String.valueOf(((org.apache.zookeeper.OpResult.ErrorResult) r).getErr()) : r.getClass().getSimpleName());
            }
            expect("tx.fail.results", errs, "[0, -103, -2]");
        }
        expect("tx.fail.atomic", c.checkExists().forPath("/cur/tx/c"), null);
        expect("tx.fail.data", s(c.getData().forPath("/cur/tx/a")), "2");

        // the old (deprecated) inTransaction() API
        @SuppressWarnings("deprecation")
        java.util.Collection<CuratorTransactionResult> old = c.inTransaction()
            .create().forPath("/cur/tx/old", b("o")).and()
            .setData().forPath("/cur/tx/old", b("p")).and()
            .check().forPath("/cur/tx").and()
            .commit();
        lines.clear();
        for (CuratorTransactionResult r : old) lines.add(r.getType() + " " + r.getForPath());
        expect("tx.inTransaction", lines, "[CREATE /cur/tx/old, SET_DATA /cur/tx/old, CHECK /cur/tx]");
        expect("tx.inTransaction.data", s(c.getData().forPath("/cur/tx/old")), "p");
    }

    // --------------------------------------------------------------- mutex
    private static void mutex() throws Exception {
        final int nClients = 3, rounds = 5;
        final AtomicInteger inside = new AtomicInteger(), maxInside = new AtomicInteger(), total = new AtomicInteger();
        final AtomicInteger errors = new AtomicInteger();
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < nClients; i++) {
            final CuratorFramework ci = newClient();
            threads.add(new Thread(() -> {
                InterProcessMutex m = new InterProcessMutex(ci, "/cur/lock");
                try {
                    for (int r = 0; r < rounds; r++) {
                        if (!m.acquire(20, TimeUnit.SECONDS)) { errors.incrementAndGet(); return; }
                        try {
                            int now = inside.incrementAndGet();
                            maxInside.accumulateAndGet(now, Math::max);
                            Thread.sleep(15);
                            total.incrementAndGet();
                            inside.decrementAndGet();
                        } finally { m.release(); }
                    }
                } catch (Exception e) { e.printStackTrace(); errors.incrementAndGet(); }
            }));
        }
        for (Thread t : threads) t.start();
        for (Thread t : threads) t.join(40000);
        expect("mutex.errors", errors.get(), 0);
        expect("mutex.max-holders", maxInside.get(), 1);
        expect("mutex.acquisitions", total.get(), nClients * rounds);
        expect("mutex.lock-nodes-left", clients.get(0).getChildren().forPath("/cur/lock").size(), 0);
        // re-entrancy: the same thread may acquire twice, one node only
        InterProcessMutex m = new InterProcessMutex(clients.get(0), "/cur/lock");
        m.acquire(); m.acquire();
        expect("mutex.reentrant.nodes", clients.get(0).getChildren().forPath("/cur/lock").size(), 1);
        m.release(); m.release();
        expect("mutex.reentrant.released", clients.get(0).getChildren().forPath("/cur/lock").size(), 0);
    }

    // ------------------------------------------------------------- leaders
    private static void leaders() throws Exception {
        List<LeaderLatch> latches = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            LeaderLatch l = new LeaderLatch(newClient(), "/cur/latch", "p" + i);
            l.start();
            latches.add(l);
            // one at a time, so the creation order (and the leader) is fixed
            final int want = i + 1;
            waitFor(5000, () -> { try { return l.getParticipants().size() == want; } catch (Exception e) { return false; } });
        }
        expect("latch.elected", waitFor(10000, () -> latches.stream().filter(LeaderLatch::hasLeadership).count() == 1), true);
        // let any competing view settle, then check again: exactly one leader
        Thread.sleep(300);
        expect("latch.leaders", latches.stream().filter(LeaderLatch::hasLeadership).count(), 1);
        LeaderLatch first = latches.stream().filter(LeaderLatch::hasLeadership).findFirst().get();
        expect("latch.first-is-p0", first.getId(), "p0");
        expect("latch.participants", latches.get(1).getParticipants().size(), 3);
        expect("latch.leader-id-seen", latches.get(2).getLeader().getId(), "p0");
        first.close();
        latches.remove(first);
        expect("latch.failover", waitFor(10000, () -> latches.stream().filter(LeaderLatch::hasLeadership).count() == 1), true);
        Thread.sleep(300);
        expect("latch.leaders-after-failover", latches.stream().filter(LeaderLatch::hasLeadership).count(), 1);
        expect("latch.second-is-p1", latches.stream().filter(LeaderLatch::hasLeadership).findFirst().get().getId(), "p1");
        for (LeaderLatch l : latches) l.close();

        // LeaderSelector: each leader holds leadership until told to give it up
        final AtomicInteger leading = new AtomicInteger(), maxLeading = new AtomicInteger();
        final List<String> order = Collections.synchronizedList(new ArrayList<>());
        final CountDownLatch[] release = new CountDownLatch[3];
        List<LeaderSelector> sels = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            final int idx = i;
            release[i] = new CountDownLatch(1);
            LeaderSelector sel = new LeaderSelector(newClient(), "/cur/selector", new LeaderSelectorListenerAdapter() {
                @Override public void takeLeadership(CuratorFramework cf) throws Exception {
                    maxLeading.accumulateAndGet(leading.incrementAndGet(), Math::max);
                    order.add("s" + idx);
                    try { release[idx].await(15, TimeUnit.SECONDS); } finally { leading.decrementAndGet(); }
                }
            });
            sel.setId("s" + i);
            sels.add(sel);
        }
        for (int i = 0; i < sels.size(); i++) {
            final LeaderSelector sel = sels.get(i);
            final int want = i + 1;
            sel.start();
            waitFor(5000, () -> { try { return sel.getParticipants().size() == want; } catch (Exception e) { return false; } });
        }
        for (int k = 0; k < 3; k++) {
            final int want = k + 1;
            if (!waitFor(10000, () -> order.size() >= want)) break;
            Thread.sleep(200);
            String who = order.get(k);
            release[Integer.parseInt(who.substring(1))].countDown();
        }
        waitFor(5000, () -> leading.get() == 0);
        expect("selector.order", order, "[s0, s1, s2]");
        expect("selector.max-leaders", maxLeading.get(), 1);
        for (LeaderSelector sel : sels) sel.close();
    }

    // -------------------------------------------------------------- caches
    private static void caches(CuratorFramework c) throws Exception {
        c.create().forPath("/cur/cache", b("root"));
        c.create().forPath("/cur/cache/pre", b("0"));
        final List<String> events = Collections.synchronizedList(new ArrayList<>());
        CuratorCache cache = CuratorCache.build(c, "/cur/cache");
        final CountDownLatch init = new CountDownLatch(1);
        cache.listenable().addListener(new CuratorCacheListener() {
            @Override public void event(Type type, ChildData oldData, ChildData data) {
                ChildData d = data != null ? data : oldData;
                events.add(type + " " + d.getPath() + " " + s(d.getData()));
            }
            @Override public void initialized() { init.countDown(); }
        });
        cache.start();
        expect("cache.initialized", init.await(10, TimeUnit.SECONDS), true);
        c.create().forPath("/cur/cache/x", b("1"));
        waitFor(5000, () -> events.size() >= 3);
        c.setData().forPath("/cur/cache/x", b("2"));
        waitFor(5000, () -> events.size() >= 4);
        c.create().forPath("/cur/cache/x/deep", b("3"));
        waitFor(5000, () -> events.size() >= 5);
        c.delete().deletingChildrenIfNeeded().forPath("/cur/cache/x");
        waitFor(5000, () -> events.size() >= 7);
        Thread.sleep(200);
        List<String> initial = new ArrayList<>(events.subList(0, 2));
        Collections.sort(initial);
        expect("cache.initial", initial, "[NODE_CREATED /cur/cache root, NODE_CREATED /cur/cache/pre 0]");
        expect("cache.events", events.subList(2, events.size()),
               "[NODE_CREATED /cur/cache/x 1, NODE_CHANGED /cur/cache/x 2, NODE_CREATED /cur/cache/x/deep 3, "
               + "NODE_DELETED /cur/cache/x/deep 3, NODE_DELETED /cur/cache/x 2]");
        expect("cache.size", cache.size(), 2);
        cache.close();

        // the older PathChildrenCache (children only, with data)
        final List<String> pevents = Collections.synchronizedList(new ArrayList<>());
        PathChildrenCache pcc = new PathChildrenCache(c, "/cur/cache", true);
        pcc.getListenable().addListener((cf, ev) -> {
            if (ev.getData() != null) pevents.add(ev.getType() + " " + ev.getData().getPath() + " " + s(ev.getData().getData()));
            else pevents.add(ev.getType().toString());
        });
        pcc.start(PathChildrenCache.StartMode.POST_INITIALIZED_EVENT);
        waitFor(5000, () -> pevents.contains("INITIALIZED"));
        c.create().forPath("/cur/cache/y", b("a"));
        waitFor(5000, () -> pevents.size() >= 3);
        c.setData().forPath("/cur/cache/y", b("b"));
        waitFor(5000, () -> pevents.size() >= 4);
        c.delete().forPath("/cur/cache/y");
        waitFor(5000, () -> pevents.size() >= 5);
        Thread.sleep(200);
        expect("pathcache.events", pevents,
               "[CHILD_ADDED /cur/cache/pre 0, INITIALIZED, CHILD_ADDED /cur/cache/y a, CHILD_UPDATED /cur/cache/y b, "
               + "CHILD_REMOVED /cur/cache/y b]");
        pcc.close();
    }

    // ---------------------------------------------------- persistent nodes
    private static void persistentNodes(CuratorFramework c) throws Exception {
        c.create().forPath("/cur/pn");
        PersistentNode pn = new PersistentNode(c, CreateMode.EPHEMERAL, false, "/cur/pn/eph", b("me"));
        pn.start();
        expect("pnode.created", pn.waitForInitialCreate(10, TimeUnit.SECONDS), true);
        expect("pnode.path", pn.getActualPath(), "/cur/pn/eph");
        expect("pnode.ephemeral", c.checkExists().forPath("/cur/pn/eph").getEphemeralOwner() != 0, true);
        // someone else deletes it: the recipe's exists watch recreates it
        CuratorFramework other = newClient();
        other.delete().forPath("/cur/pn/eph");
        expect("pnode.recreated", waitFor(10000, () -> {
            try { return other.checkExists().forPath("/cur/pn/eph") != null; } catch (Exception e) { return false; }
        }), true);
        pn.setData(b("new"));   // applied in the background
        expect("pnode.setdata", waitFor(5000, () -> {
            try { return "new".equals(s(other.getData().forPath("/cur/pn/eph"))); } catch (Exception e) { return false; }
        }), true);
        pn.close();
        expect("pnode.closed", other.checkExists().forPath("/cur/pn/eph"), null);

        PersistentTtlNode ttl = new PersistentTtlNode(c, "/cur/pn/ttl", 5000, b("live"));
        ttl.start();
        expect("ttlnode.created", ttl.waitForInitialCreate(10, TimeUnit.SECONDS), true);
        Stat parent = c.checkExists().forPath("/cur/pn/ttl");
        expect("ttlnode.parent.owner", Long.toHexString(parent.getEphemeralOwner()), "0");
        expect("ttlnode.data", s(c.getData().forPath("/cur/pn/ttl")), "live");
        // the recipe touches a TTL child every ttl/2 ms to keep the container alive
        expect("ttlnode.touched", waitFor(6000, () -> {
            try { return c.checkExists().forPath("/cur/pn/ttl/touch") != null; } catch (Exception e) { return false; }
        }), true);
        expect("ttlnode.touch.stat", stat(c.checkExists().forPath("/cur/pn/ttl/touch")),
               "v=0 cv=0 av=0 len=0 nc=0 eph=false mz>=cz=true pz>=cz=true");
        ttl.close();
    }

    // -------------------------------------------------- counters and watches
    private static void counters(CuratorFramework c) throws Exception {
        DistributedAtomicLong dal = new DistributedAtomicLong(c, "/cur/counter", new RetryNTimes(10, 10));
        AtomicValue<Long> v = dal.increment();
        expect("atomiclong.first", v.succeeded() + " " + v.preValue() + "->" + v.postValue(), "true 0->1");
        v = dal.add(41L);
        expect("atomiclong.add", v.succeeded() + " " + v.preValue() + "->" + v.postValue(), "true 1->42");
        v = dal.compareAndSet(41L, 0L);
        expect("atomiclong.cas.wrong", v.succeeded(), false);
        v = dal.compareAndSet(42L, 100L);
        expect("atomiclong.cas.right", v.succeeded() + " " + v.postValue(), "true 100");
        // concurrent increments from 3 clients
        List<Thread> ts = new ArrayList<>();
        final AtomicInteger failed = new AtomicInteger();
        for (int i = 0; i < 3; i++) {
            final DistributedAtomicLong d = new DistributedAtomicLong(newClient(), "/cur/counter", new RetryNTimes(50, 5));
            ts.add(new Thread(() -> {
                try { for (int k = 0; k < 10; k++) if (!d.increment().succeeded()) failed.incrementAndGet(); }
                catch (Exception e) { failed.incrementAndGet(); }
            }));
        }
        for (Thread t : ts) t.start();
        for (Thread t : ts) t.join(30000);
        expect("atomiclong.concurrent", failed.get() + " " + dal.get().postValue(), "0 130");

        SharedCount sc = new SharedCount(c, "/cur/shared", 7);
        final List<Integer> seen = Collections.synchronizedList(new ArrayList<>());
        SharedCount sc2 = new SharedCount(newClient(), "/cur/shared", 99);
        sc2.addListener(new org.apache.curator.framework.recipes.shared.SharedCountListener() {
            @Override public void countHasChanged(org.apache.curator.framework.recipes.shared.SharedCountReader r, int n) { seen.add(n); }
            @Override public void stateChanged(CuratorFramework cf, org.apache.curator.framework.state.ConnectionState s) { }
        });
        sc.start();
        sc2.start();
        expect("sharedcount.initial", sc.getCount() + " " + sc2.getCount(), "7 7");
        VersionedValue<Integer> vv = sc.getVersionedValue();
        expect("sharedcount.trySet", sc.trySetCount(vv, 8), true);
        expect("sharedcount.trySet.stale", sc.trySetCount(vv, 9), false);
        sc.setCount(10);
        expect("sharedcount.listener", waitFor(5000, () -> seen.contains(10)), true);
        expect("sharedcount.other", sc2.getCount(), 10);
        sc.close();
        sc2.close();
    }

    private static void addWatch(CuratorFramework c) throws Exception {
        c.create().forPath("/cur/pw");
        final List<String> rec = Collections.synchronizedList(new ArrayList<>());
        final List<String> pers = Collections.synchronizedList(new ArrayList<>());
        c.watchers().add().withMode(AddWatchMode.PERSISTENT_RECURSIVE)
            .usingWatcher((org.apache.zookeeper.Watcher) (WatchedEvent e) -> rec.add(e.getType() + " " + e.getPath())).forPath("/cur/pw");
        CuratorFramework c3 = newClient();   // own connection: one mode per path and connection
        c3.watchers().add().withMode(AddWatchMode.PERSISTENT)
            .usingWatcher((org.apache.zookeeper.Watcher) (WatchedEvent e) -> pers.add(e.getType() + " " + e.getPath())).forPath("/cur/pw");
        c.create().forPath("/cur/pw/a", b("1"));
        c.create().forPath("/cur/pw/a/b");
        c.setData().forPath("/cur/pw/a/b", b("2"));
        c.setData().forPath("/cur/pw", b("3"));
        c.delete().forPath("/cur/pw/a/b");
        c.delete().forPath("/cur/pw/a");
        waitFor(5000, () -> rec.size() >= 6 && pers.size() >= 3);
        Thread.sleep(200);
        expect("addwatch.recursive", rec, "[NodeCreated /cur/pw/a, NodeCreated /cur/pw/a/b, NodeDataChanged /cur/pw/a/b, "
               + "NodeDataChanged /cur/pw, NodeDeleted /cur/pw/a/b, NodeDeleted /cur/pw/a]");
        expect("addwatch.persistent", pers, "[NodeChildrenChanged /cur/pw, NodeDataChanged /cur/pw, NodeChildrenChanged /cur/pw]");
        // a one-shot Curator watcher on the same node fires once only
        final List<String> once = Collections.synchronizedList(new ArrayList<>());
        c.getData().usingWatcher((org.apache.zookeeper.Watcher) e -> once.add(e.getType() + " " + e.getPath())).forPath("/cur/pw");
        c.setData().forPath("/cur/pw", b("4"));
        c.setData().forPath("/cur/pw", b("5"));
        waitFor(5000, () -> pers.size() >= 5);
        Thread.sleep(200);
        expect("watch.oneshot", once, "[NodeDataChanged /cur/pw]");
        expect("addwatch.persistent.more", pers.size(), 5);
        // remove the persistent watch: no more events for it
        c3.watchers().removeAll().ofType(org.apache.zookeeper.Watcher.WatcherType.Any).forPath("/cur/pw");
        c.setData().forPath("/cur/pw", b("6"));
        c.create().forPath("/cur/pw/z");
        Thread.sleep(400);
        // c3's client reports the removal as a PersistentWatchRemoved event.
        // Apache 3.8 keeps ONE watch mode per path and connection: the
        // one-shot getData watch above replaced c's recursive watch on
        // /cur/pw, so after it fired c sees nothing more under /cur/pw
        // (fixed only in ZooKeeper 3.9, ZOOKEEPER-4466).
        expect("addwatch.removed.persistent", pers, "[NodeChildrenChanged /cur/pw, NodeDataChanged /cur/pw, "
               + "NodeChildrenChanged /cur/pw, NodeDataChanged /cur/pw, NodeDataChanged /cur/pw, PersistentWatchRemoved /cur/pw]");
        expect("addwatch.recursive.after-oneshot", rec, "[NodeCreated /cur/pw/a, NodeCreated /cur/pw/a/b, "
               + "NodeDataChanged /cur/pw/a/b, NodeDataChanged /cur/pw, NodeDeleted /cur/pw/a/b, NodeDeleted /cur/pw/a, "
               + "NodeDataChanged /cur/pw]");
    }

    public static void main(String[] args) throws Exception {
        hosts = args[0];
        CuratorFramework c = newClient();
        if (c.checkExists().forPath("/cur") == null) c.create().forPath("/cur");
        String[] sections = args.length > 1 ? args[1].split(",")
            : new String[] {"crud", "tx", "mutex", "leaders", "caches", "pnodes", "counters", "addwatch"};
        for (String sec : sections) {
            out("== " + sec);
            try {
                switch (sec) {
                    case "crud": crud(c); break;
                    case "tx": transactions(c); break;
                    case "mutex": mutex(); break;
                    case "leaders": leaders(); break;
                    case "caches": caches(c); break;
                    case "pnodes": persistentNodes(c); break;
                    case "counters": counters(c); break;
                    case "addwatch": addWatch(c); break;
                    default: throw new IllegalArgumentException(sec);
                }
            } catch (Exception e) {
                out(sec + ".exception = " + e);
                System.err.println("CHECK FAILED " + sec + ": exception");
                e.printStackTrace();
                failures++;
            }
        }
        for (CuratorFramework cf : clients) cf.close();
        out("failures = " + failures);
        System.exit(failures == 0 ? 0 : 1);
    }
}
