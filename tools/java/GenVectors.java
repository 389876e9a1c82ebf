/*
 * GenVectors.java — prints expected values computed by the REAL Java
 * implementations (the JDK and Apache ZooKeeper's own classes from
 * /usr/share/java/zookeeper.jar) into test/vectors/java/*.txt, for the C
 * unit tests in test/unit/.  Compiled and run by tools/gen-java-vectors.sh;
 * never run by the tests themselves.
 *
 * Every output is deterministic (fixed java.util.Random seeds), so
 * regenerating gives byte-identical files on the same JDK/ZooKeeper.
 *
 * File formats are described in test/vectors/java/README.md.
 */
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;

import org.apache.jute.BinaryOutputArchive;
import org.apache.jute.Record;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.WatchedEvent;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.Watcher.Event.EventType;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.common.PathUtils;
import org.apache.zookeeper.data.ACL;
import org.apache.zookeeper.data.Id;
import org.apache.zookeeper.data.Stat;
import org.apache.zookeeper.server.DataTree;
import org.apache.zookeeper.server.auth.DigestAuthenticationProvider;
import org.apache.zookeeper.server.auth.IPAuthenticationProvider;
import org.apache.zookeeper.server.watch.WatchManager;
import org.apache.zookeeper.server.watch.WatcherMode;
import org.apache.zookeeper.server.watch.WatcherOrBitSet;
import org.apache.zookeeper.txn.CheckVersionTxn;
import org.apache.zookeeper.txn.CloseSessionTxn;
import org.apache.zookeeper.txn.CreateContainerTxn;
import org.apache.zookeeper.txn.CreateTTLTxn;
import org.apache.zookeeper.txn.CreateTxn;
import org.apache.zookeeper.txn.DeleteTxn;
import org.apache.zookeeper.txn.ErrorTxn;
import org.apache.zookeeper.txn.MultiTxn;
import org.apache.zookeeper.txn.SetACLTxn;
import org.apache.zookeeper.txn.SetDataTxn;
import org.apache.zookeeper.txn.Txn;
import org.apache.zookeeper.txn.TxnHeader;

public class GenVectors {
    static File outDir;

    static PrintWriter open(String name) throws IOException {
        return new PrintWriter(new File(outDir, name), "UTF-8");
    }

    static String hex(byte[] b) {
        StringBuilder sb = new StringBuilder();
        for (byte x : b) sb.append(String.format("%02x", x & 0xff));
        return sb.toString();
    }

    static byte[] unhex(String s) {
        byte[] b = new byte[s.length() / 2];
        for (int i = 0; i < b.length; i++) b[i] = (byte) Integer.parseInt(s.substring(2 * i, 2 * i + 2), 16);
        return b;
    }

    // ---------------------------------------------------------------- HashSet

    static String randomName(Random r) {
        int len = 1 + r.nextInt(12);
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < len; i++) sb.append((char) ('a' + r.nextInt(26)));
        return sb.toString();
    }

    /* 2^k strings that all share one String.hashCode ("Aa" and "BB" collide). */
    static List<String> collisionFamily(int k) {
        List<String> out = new ArrayList<>();
        for (int m = 0; m < (1 << k); m++) {
            StringBuilder sb = new StringBuilder();
            for (int i = k - 1; i >= 0; i--) sb.append(((m >> i) & 1) == 0 ? "Aa" : "BB");
            out.add(sb.toString());
        }
        return out;
    }

    /*
     * One line: KIND \t INITCAP \t OPS \t ORDER.  KIND "set": ORDER is the
     * iteration order of `new HashSet<>(INITCAP)` after OPS ("+x" adds,
     * "-x" removes); KIND "copy": ORDER is that of `new HashSet<>(set)`.
     * INITCAP -1 means `new HashSet<>()`.
     */
    static void hashsetCase(PrintWriter out, String kind, int initCap, List<String> ops) {
        HashSet<String> s = initCap < 0 ? new HashSet<>() : new HashSet<>(initCap);
        for (String op : ops) {
            if (op.charAt(0) == '+') s.add(op.substring(1));
            else s.remove(op.substring(1));
        }
        Set<String> result = kind.equals("copy") ? new HashSet<>(s) : s;
        out.println(kind + "\t" + initCap + "\t" + String.join(" ", ops) + "\t" + String.join(" ", result));
    }

    static void genHashSets() throws IOException {
        try (PrintWriter out = open("hashset_orders.txt")) {
            Random r = new Random(20240601L);
            int[] caps = { -1, 8, 16, 0, 1, 4, 3, 100 };
            // Random names, growing sizes (resizes up to 512 and more).
            int[] sizes = { 1, 2, 5, 7, 12, 13, 24, 25, 48, 49, 64, 65, 97, 200, 385, 700 };
            for (int size : sizes) {
                for (int cap : caps) {
                    List<String> ops = new ArrayList<>();
                    for (int i = 0; i < size; i++) ops.add("+" + randomName(r));
                    hashsetCase(out, "set", cap, ops);
                }
            }
            // Sequential-node names, in order and shuffled, with removals.
            for (int n : new int[] { 3, 10, 30, 70, 150 }) {
                List<String> ops = new ArrayList<>();
                for (int i = 0; i < n; i++) ops.add("+lock-" + String.format("%010d", i + r.nextInt(3) * 1000));
                hashsetCase(out, "set", 8, ops);
                Collections.shuffle(ops, r);
                hashsetCase(out, "set", 8, ops);
                List<String> rem = new ArrayList<>(ops);
                for (int i = 0; i < n; i += 3) rem.add("-" + ops.get(i).substring(1));
                hashsetCase(out, "set", 8, rem);
                hashsetCase(out, "copy", 8, rem);
                List<String> mixed = new ArrayList<>();
                for (int i = 0; i < n; i++) {
                    mixed.add("+member-" + String.format("%010d", i));
                    if (i % 4 == 3) mixed.add("-member-" + String.format("%010d", i - 2));
                }
                hashsetCase(out, "set", 16, mixed);
            }
            // Interleaved adds and removals of random names, duplicate adds.
            for (int t = 0; t < 40; t++) {
                List<String> ops = new ArrayList<>();
                List<String> live = new ArrayList<>();
                int steps = 5 + r.nextInt(300);
                for (int i = 0; i < steps; i++) {
                    int dice = r.nextInt(10);
                    if (dice < 6 || live.isEmpty()) {
                        String nm = randomName(r);
                        ops.add("+" + nm);
                        live.add(nm);
                    } else if (dice < 8) {
                        ops.add("-" + live.remove(r.nextInt(live.size())));
                    } else if (dice < 9) {
                        ops.add("+" + live.get(r.nextInt(live.size())));    // duplicate add
                    } else {
                        ops.add("-never-added-" + i);
                    }
                }
                hashsetCase(out, t % 2 == 0 ? "set" : "copy", caps[t % caps.length], ops);
            }
            // Collisions: whole-hash collisions (<= 10 in one bucket, and
            // never a 9th entry in a bucket of a table of 64 or more, so that
            // Java never treeifies a bin: the 9th and 10th force resizes of a
            // table smaller than 64 instead).
            List<String> fam = collisionFamily(4);
            for (int k = 2; k <= 10; k++) {
                List<String> ops = new ArrayList<>();
                for (int i = 0; i < k; i++) ops.add("+" + fam.get(i));
                hashsetCase(out, "set", 8, ops);
                hashsetCase(out, "set", -1, ops);
                // Beyond 8 members a later add into a table of >= 64 would
                // treeify the bin (not emulated by jset): insert-only above.
                if (k > 8) continue;
                List<String> withOthers = new ArrayList<>(ops);
                for (int i = 0; i < 20; i++) withOthers.add(Math.min(2 * i, withOthers.size()), "+" + randomName(r));
                hashsetCase(out, "set", 8, withOthers);
                List<String> rem = new ArrayList<>(ops);
                rem.add("-" + fam.get(0));
                rem.add("-" + fam.get(k - 1));
                rem.add("+" + fam.get(0));
                hashsetCase(out, "set", 8, rem);
                hashsetCase(out, "copy", 8, rem);
            }
            // Bucket (not whole-hash) collisions in a large set.
            {
                List<String> ops = new ArrayList<>();
                for (int i = 0; i < 8; i++) ops.add("+" + collisionFamily(3).get(i));
                for (int i = 0; i < 300; i++) ops.add("+n" + i);
                hashsetCase(out, "set", -1, ops);
                hashsetCase(out, "copy", -1, ops);
            }
            // Copies of big sets with many removals (copy capacity < original).
            for (int t = 0; t < 6; t++) {
                List<String> ops = new ArrayList<>();
                List<String> names = new ArrayList<>();
                int n = 20 + r.nextInt(200);
                for (int i = 0; i < n; i++) {
                    String nm = "/app/session-" + r.nextInt(100000);
                    names.add(nm);
                    ops.add("+" + nm);
                }
                for (int i = 0; i < n * 3 / 4; i++) ops.add("-" + names.get(r.nextInt(n)));
                hashsetCase(out, "set", 16, ops);
                hashsetCase(out, "copy", 16, ops);
            }
        }
        // String.hashCode of UTF-8 names (hex) including non-ASCII and
        // supplementary characters.
        try (PrintWriter out = open("string_hash.txt")) {
            String[] samples = { "", "a", "Aa", "BB", "lock-0000000042", "zookeeper", "quota",
                "caf\u00e9", "\u00fc\u00f6\u00e4", "\u65e5\u672c\u8a9e", "\u0800", "\u07ff", "\u00a0",
                "\uf900", "\uffef", "\ud83d\ude00", "x\ud800\udc00y", "\udbff\udfff",
                "\u0391\u03b2\u03b3", "mixed-\u00e9-\ud83d\udca9-end", "\u20ac100", "\u0080" };
            for (String s : samples)
                out.println(hex(s.getBytes(StandardCharsets.UTF_8)) + "\t" + s.hashCode());
            Random r = new Random(7);
            for (int i = 0; i < 200; i++) {
                StringBuilder sb = new StringBuilder();
                int len = 1 + r.nextInt(10);
                for (int j = 0; j < len; j++) {
                    int kind = r.nextInt(4);
                    int cp;
                    if (kind == 0) cp = 0x20 + r.nextInt(0x5f);
                    else if (kind == 1) cp = 0xa0 + r.nextInt(0x700);
                    else if (kind == 2) { do { cp = 0x800 + r.nextInt(0xf800); } while (cp >= 0xd800 && cp <= 0xdfff); }
                    else cp = 0x10000 + r.nextInt(0x100000);
                    sb.appendCodePoint(cp);
                }
                String s = sb.toString();
                out.println(hex(s.getBytes(StandardCharsets.UTF_8)) + "\t" + s.hashCode());
            }
        }
    }

    // ---------------------------------------------------------------- paths

    static void pathCase(PrintWriter out, byte[] utf8) {
        String s = new String(utf8, StandardCharsets.UTF_8);
        boolean ok;
        try {
            PathUtils.validatePath(s);
            ok = true;
        } catch (IllegalArgumentException e) {
            ok = false;
        }
        out.println(hex(utf8) + "\t" + (ok ? 1 : 0));
    }

    static void pathCase(PrintWriter out, String s) {
        pathCase(out, s.getBytes(StandardCharsets.UTF_8));
    }

    static byte[] cat(byte[]... parts) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        for (byte[] p : parts) b.write(p, 0, p.length);
        return b.toByteArray();
    }

    static void genPaths() throws IOException {
        try (PrintWriter out = open("paths.txt")) {
            String[] plain = { "", "/", "//", "/a", "a", "a/b", "/a/", "/a/b", "/a//b", "/a/b/", "/.", "/..",
                "/...", "/a/.", "/a/..", "/a/./b", "/a/../b", "/.a", "/a.", "/..a", "/a..", "/a/.b/..c",
                "/zookeeper", "/zookeeper/quota", "/ a", "/a b", "/lock-0000000001", "/a/b/c/d/e/f",
                "/./a", "/../a", "/a/...", "/-", "/~", "/a\\b", "/a:b", "/.../..../.", "/a/b/.", "///",
                "/a/b//", " /a", "\\a" };
            for (String p : plain) pathCase(out, p);
            // Every BMP code point class boundary, in the middle and at the end.
            int[] cps = { 0x0, 0x1, 0x9, 0xa, 0x1f, 0x20, 0x21, 0x2e, 0x2f, 0x7e, 0x7f, 0x80, 0x85, 0x9f, 0xa0,
                0xff, 0x100, 0x7ff, 0x800, 0xfff, 0x1000, 0xd7ff, 0xe000, 0xf8ff, 0xf900, 0xfdd0, 0xfeff,
                0xffef, 0xfff0, 0xfffd, 0xfffe, 0xffff };
            for (int cp : cps) {
                String c = new String(Character.toChars(cp));
                pathCase(out, "/" + c);
                pathCase(out, "/a" + c + "b");
                pathCase(out, "/x/" + c);
            }
            // Every code point 0..0x2ff in one segment.
            for (int cp = 0; cp < 0x300; cp++) pathCase(out, "/n" + new String(Character.toChars(cp)));
            // Supplementary characters (surrogate pairs in Java).
            int[] sup = { 0x10000, 0x1f600, 0x10ffff, 0x20000 };
            for (int cp : sup) {
                pathCase(out, "/" + new String(Character.toChars(cp)));
                pathCase(out, "/a/" + new String(Character.toChars(cp)) + "/b");
            }
            // Invalid UTF-8: lone continuation, truncated sequences, overlong
            // forms (incl. overlong NUL and '/'), encoded surrogates,
            // > U+10FFFF, bytes F5..FF.
            String[] bad = { "80", "bf", "c0", "c1", "c080", "c0af", "c2", "e0", "e080", "e08080", "e0a0",
                "ed a080", "eda080", "edbfbf", "f0", "f08080", "f0808080", "f48fbfbf", "f4908080", "f5", "f8",
                "fe", "ff", "c3", "c3a9", "e282ac", "f09f9880", "e282", "f09f98", "c328", "e228a1",
                "f0288c28", "efbfbd", "efbfbf", "efbfb0", "eeb080", "ed9fbf", "ee8080" };
            for (String h : bad) {
                byte[] b = unhex(h.replace(" ", ""));
                byte[] slash = "/".getBytes(StandardCharsets.UTF_8);
                pathCase(out, cat(slash, b));
                pathCase(out, cat("/a".getBytes(StandardCharsets.UTF_8), b, "/b".getBytes(StandardCharsets.UTF_8)));
            }
            // Random short paths over an alphabet that stresses the rules.
            Random r = new Random(99);
            String[] alphabet = { "/", "/", ".", ".", "a", "b", "\u00e9", "\u0000", "\u007f", "\u00a0",
                "\ud800", "\udc00", "\ue000", "\uf900", "\ufff0", "\ud83d\ude00", " " };
            for (int i = 0; i < 300; i++) {
                StringBuilder sb = new StringBuilder(r.nextInt(8) == 0 ? "" : "/");
                int len = r.nextInt(8);
                for (int j = 0; j < len; j++) sb.append(alphabet[r.nextInt(alphabet.length)]);
                // Lone surrogates have no UTF-8 form: Java's encoder writes '?'.
                pathCase(out, sb.toString());
            }
        }
    }

    // ---------------------------------------------------------------- auth

    static void genAuth() throws Exception {
        try (PrintWriter out = open("digests.txt")) {
            String[] inputs = { "user:pass", "super:test", "bob:", ":nopassuser", "alice:pa:ss:word", "a:b",
                "nocolon", "", "\u00e9l\u00e8ve:m\u00f6t de passe", "x:\ud83d\ude00", "user:pass with spaces",
                "u:" + "p".repeat(100), "::", "admin:admin" };
            for (String s : inputs)
                out.println(hex(s.getBytes(StandardCharsets.UTF_8)) + "\t"
                        + hex(DigestAuthenticationProvider.generateDigest(s).getBytes(StandardCharsets.UTF_8)));
        }
        try (PrintWriter out = open("digest_valid.txt")) {
            DigestAuthenticationProvider d = new DigestAuthenticationProvider();
            String[] ids = { "user:hash", "user:", ":hash", "user", "", "a:b:c", "a::", "a:b:", ":", "::",
                "user:YWJj", "a:b::" };
            for (String s : ids) out.println(hex(s.getBytes(StandardCharsets.UTF_8)) + "\t" + (d.isValid(s) ? 1 : 0));
        }
        try (PrintWriter out = open("ip.txt")) {
            IPAuthenticationProvider ip = new IPAuthenticationProvider();
            String[] exprs = { "127.0.0.1", "127.0.0.1/32", "127.0.0.0/8", "10.0.0.0/8", "0.0.0.0/0", "10.1.2.3/24",
                "10.1.2.3/33", "10.1.2.3/-1", "10.1.2.3/", "10.1.2.3/abc", "010.1.2.3", "+10.1.2.3", "10.1.2",
                "10.1.2.3.4", "256.1.1.1", "10.1.2.3/+8", "10.1.2.3/ 8", "192.168.1.255/31", "192.168.1.1/23",
                "::1", "localhost", "", "1.2.3.4/08", "-0.0.0.0" };
            String[] addrs = { "127.0.0.1", "10.9.8.7", "10.1.2.200", "10.1.3.1", "192.168.1.254",
                "192.168.0.1", "1.2.3.4", "0.0.0.0" };
            for (String e : exprs) {
                out.println("valid\t" + hex(e.getBytes(StandardCharsets.UTF_8)) + "\t" + (ip.isValid(e) ? 1 : 0));
                for (String a : addrs)
                    out.println("match\t" + hex(e.getBytes(StandardCharsets.UTF_8)) + "\t" + a + "\t"
                            + (ip.matches(a, e) ? 1 : 0));
            }
        }
    }

    // ---------------------------------------------------------------- passwords

    static void genPasswords() throws IOException {
        try (PrintWriter out = open("session_passwords.txt")) {
            long[] ids = { 0L, 1L, -1L, 0xB3415C00L, 0x100000000L, 0x7fffffffffffffffL, 0x8000000000000000L,
                0x01000a1b2c3d0000L, 0x0100000000000001L, 0xff00000000000000L, 72057594037927936L,
                216172782113783808L, 0x1234567890abcdefL };
            Random r = new Random(4242);
            List<Long> all = new ArrayList<>();
            for (long id : ids) all.add(id);
            for (int i = 0; i < 20; i++) all.add(r.nextLong());
            for (long id : all) {
                Random g = new Random(id ^ 0xB3415C00L);
                byte[] p = new byte[16];
                g.nextBytes(p);
                out.println(id + "\t" + hex(p));
            }
        }
    }

    // ---------------------------------------------------------------- DataTree

    static String statStr(Stat s) {
        return s.getCzxid() + " " + s.getMzxid() + " " + s.getCtime() + " " + s.getMtime() + " " + s.getVersion()
                + " " + s.getCversion() + " " + s.getAversion() + " " + s.getEphemeralOwner() + " "
                + s.getDataLength() + " " + s.getNumChildren() + " " + s.getPzxid();
    }

    static String dataArg(byte[] d) {
        return d == null ? "-" : "x" + hex(d);
    }

    static class TreeScript {
        final DataTree dt = new DataTree();
        final PrintWriter out;

        TreeScript(PrintWriter out) {
            this.out = out;
        }

        void create(String path, byte[] data, long owner, int pcv, long zxid, long time) {
            int rc = 0;
            Stat st = new Stat();
            try {
                dt.createNode(path, data, ZooDefs.Ids.OPEN_ACL_UNSAFE, owner, pcv, zxid, time, st);
            } catch (KeeperException e) {
                rc = e.code().intValue();
            }
            out.println("create " + path + " " + dataArg(data) + " " + owner + " " + pcv + " " + zxid + " " + time
                    + " => " + rc + (rc == 0 ? " " + statStr(st) : ""));
        }

        void delete(String path, long zxid) {
            int rc = 0;
            try {
                dt.deleteNode(path, zxid);
            } catch (KeeperException e) {
                rc = e.code().intValue();
            }
            out.println("delete " + path + " " + zxid + " => " + rc);
        }

        void setData(String path, byte[] data, int version, long zxid, long time) {
            int rc = 0;
            Stat st = null;
            try {
                st = dt.setData(path, data, version, zxid, time);
            } catch (KeeperException e) {
                rc = e.code().intValue();
            }
            out.println("setdata " + path + " " + dataArg(data) + " " + version + " " + zxid + " " + time + " => " + rc
                    + (rc == 0 ? " " + statStr(st) : ""));
        }

        void setAcl(String path, int version) {
            int rc = 0;
            Stat st = null;
            try {
                st = dt.setACL(path, ZooDefs.Ids.READ_ACL_UNSAFE, version);
            } catch (KeeperException e) {
                rc = e.code().intValue();
            }
            out.println("setacl " + path + " " + version + " => " + rc + (rc == 0 ? " " + statStr(st) : ""));
        }

        void setCv(String path, int cv, long zxid) {
            int rc = 0;
            try {
                dt.setCversionPzxid(path, cv, zxid);
            } catch (KeeperException e) {
                rc = e.code().intValue();
            }
            out.println("setcv " + path + " " + cv + " " + zxid + " => " + rc);
        }

        void stat(String path) {
            try {
                out.println("stat " + path + " => " + statStr(dt.statNode(path, null)));
            } catch (KeeperException e) {
                out.println("stat " + path + " => " + e.code().intValue());
            }
        }

        void children(String path) {
            try {
                List<String> c = dt.getChildren(path, null, null);
                out.println("children " + path + " => " + String.join(" ", c));
            } catch (KeeperException e) {
                out.println("children " + path + " => " + e.code().intValue());
            }
        }

        void ephemerals(long session) {
            out.println("ephemerals " + session + " => " + String.join(" ", dt.getEphemerals(session)));
        }

        void count() {
            out.println("count => " + dt.getNodeCount());
        }
    }

    static final long TTL_OWNER_5000 = 0xFF00000000000000L | 5000L;

    static void genTree() throws IOException {
        try (PrintWriter out = open("tree_ops.txt")) {
            TreeScript t = new TreeScript(out);
            t.stat("/");
            t.stat("/zookeeper");
            t.stat("/zookeeper/quota");
            t.stat("/zookeeper/config");
            t.children("/");
            t.children("/zookeeper");
            t.count();
            // Basic create / stat; explicit parent cversion and -1.
            t.create("/a", "hello".getBytes(StandardCharsets.UTF_8), 0, 1, 0x100000001L, 1000);
            t.stat("/");
            t.create("/b", null, 0, -1, 0x100000002L, 1001);
            t.stat("/");
            t.stat("/b");
            t.create("/a", new byte[0], 0, 3, 0x100000003L, 1002);     // NODEEXISTS
            t.create("/nope/x", new byte[0], 0, -1, 0x100000004L, 1003);  // NONODE
            t.stat("/");
            t.create("/a/c", new byte[] { 1, 2, 3 }, 0, 1, 0x100000005L, 1004);
            t.create("/a/d", new byte[0], 0, 5, 0x100000006L, 1005);   // jumps the cversion
            t.stat("/a");
            t.create("/a/e", new byte[0], 0, 2, 0x100000007L, 1006);   // lower cversion: no change
            t.stat("/a");
            // Delete updates pzxid only when larger; client cversion changes.
            t.delete("/a/c", 0x100000008L);
            t.stat("/a");
            t.delete("/a/d", 0x100000002L);                            // older zxid
            t.stat("/a");
            t.delete("/a/zz", 0x100000009L);                           // missing child, parent exists
            t.stat("/a");
            t.delete("/q/zz", 0x10000000aL);                           // missing parent
            t.children("/a");
            // setData / setACL.
            t.setData("/a", "world!".getBytes(StandardCharsets.UTF_8), 1, 0x10000000bL, 2000);
            t.setData("/a", null, 2, 0x10000000cL, 2001);
            t.setData("/a/e", new byte[0], 7, 0x10000000dL, 2002);
            t.setData("/missing", new byte[0], 1, 0x10000000eL, 2003);
            t.stat("/a");
            t.setAcl("/a", 1);
            t.setAcl("/a/e", 5);
            t.setAcl("/missing", 1);
            t.stat("/a");
            // setCversionPzxid.
            t.setCv("/a", -1, 0x10000000fL);
            t.stat("/a");
            t.setCv("/a", 2, 0x100000010L);
            t.stat("/a");
            t.setCv("/a", 40, 0x100000011L);
            t.stat("/a");
            t.setCv("/missing", 1, 0x100000012L);
            // Ephemerals, containers, TTL nodes.
            long s1 = 0x0100000000001234L, s2 = 0x0100000000005678L;
            t.create("/eph", new byte[0], 0, -1, 0x100000020L, 3000);
            Random r = new Random(31337);
            long zxid = 0x100000021L;
            List<String> ephs = new ArrayList<>();
            for (int i = 0; i < 120; i++) {
                String p = "/eph/" + (r.nextBoolean() ? "worker-" : "lock-") + String.format("%010d", r.nextInt(1000000));
                if (ephs.contains(p)) continue;
                ephs.add(p);
                t.create(p, new byte[0], i % 3 == 0 ? s2 : s1, -1, zxid++, 3001 + i);
            }
            t.ephemerals(s1);
            t.ephemerals(s2);
            t.ephemerals(0x42L);
            t.children("/eph");
            t.stat("/eph");
            for (int i = 0; i < ephs.size(); i += 4) t.delete(ephs.get(i), zxid++);
            t.ephemerals(s1);
            t.ephemerals(s2);
            t.children("/eph");
            t.stat("/eph");
            t.create("/cont", new byte[0], 0x8000000000000000L, -1, zxid++, 4000);
            t.stat("/cont");
            t.create("/ttl", new byte[0], TTL_OWNER_5000, -1, zxid++, 4001);
            t.stat("/ttl");
            t.create("/eph/e1", new byte[] { 9 }, s1, -1, zxid++, 4002);
            t.stat("/eph/e1");
            // Many persistent children with removals (HashSet resize orders).
            t.create("/big", new byte[0], 0, -1, zxid++, 5000);
            List<String> names = new ArrayList<>();
            for (int i = 0; i < 300; i++) {
                String nm = "/big/" + randomName(r);
                if (names.contains(nm)) continue;
                names.add(nm);
                t.create(nm, new byte[0], 0, -1, zxid++, 5001 + i);
            }
            t.children("/big");
            for (int i = 0; i < names.size(); i += 2) t.delete(names.get(i), zxid++);
            t.children("/big");
            t.stat("/big");
            for (int i = 0; i < 5; i++) t.create("/big/again" + i, new byte[0], 0, -1, zxid++, 6000 + i);
            t.children("/big");
            t.stat("/big");
            t.count();
        }
    }

    // ---------------------------------------------------------------- WatchManager

    static void genWatches() throws IOException {
        try (PrintWriter out = open("watch_ops.txt")) {
            WatchManager wm = new WatchManager();
            final int nw = 6;
            final List<String> delivered = new ArrayList<>();
            Watcher[] ws = new Watcher[nw + 1];
            for (int i = 1; i <= nw; i++) {
                final int id = i;
                ws[i] = (WatchedEvent e) -> delivered.add(id + ":" + e.getType().getIntValue() + ":" + e.getPath());
            }
            Object[][] script = {
                { "add", "/a", 1, 0 }, { "add", "/a", 2, 1 }, { "add", "/", 3, 2 }, { "add", "/a/b", 4, 0 },
                { "summary" },
                { "contains", "/a", 1 }, { "contains", "/a", 5 }, { "contains", "/a/b/c", 3 }, { "contains", "/a/b/c", 4 },
                { "contains", "/zz", 1 }, { "contains", "/", 3 },
                { "trigger", "/a", EventType.NodeDataChanged, "" },
                { "summary" },
                { "trigger", "/a", EventType.NodeDataChanged, "" },
                { "trigger", "/a/b", EventType.NodeChildrenChanged, "" },
                { "trigger", "/a/b", EventType.NodeChildrenChanged, "" },
                { "trigger", "/a/b/c/d", EventType.NodeCreated, "" },
                { "trigger", "/x", EventType.NodeDeleted, "3" },
                { "summary" },
                { "add", "/p", 5, 0 }, { "add", "/p", 5, 1 }, { "trigger", "/p", EventType.NodeDataChanged, "" },
                { "trigger", "/p", EventType.NodeDataChanged, "" },
                { "add", "/p", 5, 0 }, { "trigger", "/p", EventType.NodeDataChanged, "" },
                { "trigger", "/p", EventType.NodeDataChanged, "" },
                { "add", "/r", 6, 2 }, { "add", "/r", 6, 0 }, { "trigger", "/r/x", EventType.NodeCreated, "" },
                { "trigger", "/r", EventType.NodeDataChanged, "" }, { "trigger", "/r", EventType.NodeDataChanged, "" },
                { "summary" },
                { "add", "/m", 1, 0 }, { "add", "/m", 2, 0 }, { "add", "/m", 4, 1 },
                { "trigger", "/m", EventType.NodeDeleted, "1,4" },
                { "summary" },
                { "remove", "/a", 2 }, { "remove", "/a", 2 }, { "remove", "/", 1 }, { "remove", "/", 3 },
                { "summary" },
                { "trigger", "/a/q", EventType.NodeDataChanged, "" },
                { "add", "/w1", 1, 0 }, { "add", "/w2", 1, 1 }, { "add", "/w3", 1, 2 }, { "add", "/w1", 2, 0 },
                { "summary" },
                { "removewatcher", 1 },
                { "summary" },
                { "trigger", "/w3/x", EventType.NodeDataChanged, "" },
                { "trigger", "/w1", EventType.NodeDataChanged, "" },
                { "summary" },
            };
            for (Object[] op : script) {
                String name = (String) op[0];
                switch (name) {
                case "add": {
                    WatcherMode m = (int) op[3] == 0 ? WatcherMode.STANDARD
                            : (int) op[3] == 1 ? WatcherMode.PERSISTENT : WatcherMode.PERSISTENT_RECURSIVE;
                    boolean rv = wm.addWatch((String) op[1], ws[(int) op[2]], m);
                    out.println("add " + op[1] + " " + op[2] + " " + op[3] + " => " + (rv ? 1 : 0));
                    break;
                }
                case "contains":
                    out.println("contains " + op[1] + " " + op[2] + " => "
                            + (wm.containsWatcher((String) op[1], ws[(int) op[2]]) ? 1 : 0));
                    break;
                case "remove":
                    out.println("remove " + op[1] + " " + op[2] + " => "
                            + (wm.removeWatcher((String) op[1], ws[(int) op[2]]) ? 1 : 0));
                    break;
                case "removewatcher":
                    wm.removeWatcher(ws[(int) op[1]]);
                    out.println("removewatcher " + op[1] + " =>");
                    break;
                case "summary":
                    out.println("summary => " + wm.getWatchesSummary().getNumConnections() + " "
                            + wm.getWatchesSummary().getNumPaths() + " " + wm.size());
                    break;
                case "trigger": {
                    String supp = (String) op[3];
                    Set<Watcher> sup = new HashSet<>();
                    if (!supp.isEmpty())
                        for (String s : supp.split(",")) sup.add(ws[Integer.parseInt(s)]);
                    delivered.clear();
                    WatcherOrBitSet fired = wm.triggerWatch((String) op[1], (EventType) op[2], null,
                            sup.isEmpty() ? null : new WatcherOrBitSet(sup));
                    TreeSet<Integer> firedIds = new TreeSet<>();
                    if (fired != null)
                        for (int i = 1; i <= nw; i++) if (fired.contains(ws[i])) firedIds.add(i);
                    TreeSet<String> del = new TreeSet<>(delivered);
                    StringBuilder f = new StringBuilder();
                    for (int i : firedIds) f.append(f.length() > 0 ? "," : "").append(i);
                    StringBuilder d = new StringBuilder();
                    for (String s : del) d.append(d.length() > 0 ? "," : "").append(s.substring(0, s.indexOf(':')));
                    out.println("trigger " + op[1] + " " + ((EventType) op[2]).getIntValue() + " "
                            + (supp.isEmpty() ? "-" : supp) + " => " + (f.length() > 0 ? f : "-") + " "
                            + (d.length() > 0 ? d : "-"));
                    break;
                }
                default:
                    throw new IllegalStateException(name);
                }
            }
        }
    }

    // ---------------------------------------------------------------- processTxn

    static byte[] ser(Record r) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        BinaryOutputArchive oa = BinaryOutputArchive.getArchive(b);
        r.serialize(oa, "txn");
        return b.toByteArray();
    }

    static class TxnScript {
        final DataTree dt = new DataTree();
        final PrintWriter out;
        long zxid = 0x200000001L;
        long time = 7000;

        TxnScript(PrintWriter out) {
            this.out = out;
        }

        String resultStr(DataTree.ProcessTxnResult rc) {
            StringBuilder sb = new StringBuilder(rc.type + " " + rc.err + " " + (rc.path == null ? "-" : rc.path)
                    + " " + (rc.stat == null ? "-" : statStr(rc.stat).replace(' ', ',')));
            if (rc.multiResult != null) {
                sb.append(" [");
                for (DataTree.ProcessTxnResult sub : rc.multiResult)
                    sb.append(" " + sub.type + ":" + sub.err + ":" + (sub.path == null ? "-" : sub.path) + ":"
                            + (sub.stat == null ? "-" : statStr(sub.stat).replace(' ', ',')));
                sb.append(" ]");
            }
            return sb.toString();
        }

        void txn(long session, int type, Record rec) throws IOException {
            TxnHeader h = new TxnHeader(session, 17, zxid++, time++, type);
            ByteArrayOutputStream b = new ByteArrayOutputStream();
            BinaryOutputArchive oa = BinaryOutputArchive.getArchive(b);
            h.serialize(oa, "hdr");
            if (rec != null) rec.serialize(oa, "txn");
            DataTree.ProcessTxnResult rc = dt.processTxn(h, rec);
            out.println("txn " + hex(b.toByteArray()) + " => " + resultStr(rc));
        }

        void stat(String path) {
            try {
                out.println("stat " + path + " => " + statStr(dt.statNode(path, null)));
            } catch (KeeperException e) {
                out.println("stat " + path + " => " + e.code().intValue());
            }
        }

        void children(String path) {
            try {
                out.println("children " + path + " => " + String.join(" ", dt.getChildren(path, null, null)));
            } catch (KeeperException e) {
                out.println("children " + path + " => " + e.code().intValue());
            }
        }

        void ephemerals(long session) {
            out.println("ephemerals " + session + " => " + String.join(" ", dt.getEphemerals(session)));
        }
    }

    static Txn sub(int type, Record r) throws IOException {
        return new Txn(type, ser(r));
    }

    static void genTxns() throws IOException {
        try (PrintWriter out = open("txn_ops.txt")) {
            TxnScript t = new TxnScript(out);
            long s1 = 0x0100000000000abcL;
            List<ACL> open = ZooDefs.Ids.OPEN_ACL_UNSAFE;
            List<ACL> digest = Arrays.asList(new ACL(ZooDefs.Perms.ALL, new Id("digest", "u:abc=")),
                    new ACL(ZooDefs.Perms.READ, new Id("world", "anyone")));
            t.txn(s1, ZooDefs.OpCode.create, new CreateTxn("/a", "v1".getBytes(StandardCharsets.UTF_8), open, false, 1));
            t.txn(s1, ZooDefs.OpCode.create2, new CreateTxn("/a/b", new byte[0], digest, false, 1));
            t.txn(s1, ZooDefs.OpCode.create, new CreateTxn("/a/eph", null, open, true, 2));
            t.txn(s1, ZooDefs.OpCode.create2, new CreateTxn("/a/eph2", new byte[] { 5 }, open, true, 3));
            t.stat("/");
            t.stat("/a");
            t.stat("/a/b");
            t.stat("/a/eph");
            t.ephemerals(s1);
            // Replayed create of an existing node: setCversionPzxid on parent.
            t.txn(s1, ZooDefs.OpCode.create, new CreateTxn("/a/b", new byte[0], open, false, 9));
            t.stat("/a");
            t.txn(s1, ZooDefs.OpCode.create2, new CreateTxn("/a/b", new byte[0], open, false, 12));
            t.stat("/a");
            t.txn(s1, ZooDefs.OpCode.create, new CreateTxn("/zz/b", new byte[0], open, false, 1));
            t.txn(s1, ZooDefs.OpCode.setData, new SetDataTxn("/a", "v2".getBytes(StandardCharsets.UTF_8), 1));
            t.txn(s1, ZooDefs.OpCode.setData, new SetDataTxn("/nope", new byte[0], 1));
            t.txn(s1, ZooDefs.OpCode.setACL, new SetACLTxn("/a/b", open, 3));
            t.txn(s1, ZooDefs.OpCode.setACL, new SetACLTxn("/nope", open, 3));
            t.txn(s1, ZooDefs.OpCode.check, new CheckVersionTxn("/a", 1));
            t.txn(s1, ZooDefs.OpCode.error, new ErrorTxn(KeeperException.Code.BADVERSION.intValue()));
            t.txn(s1, ZooDefs.OpCode.createContainer, new CreateContainerTxn("/c", new byte[0], open, -1));
            t.txn(s1, ZooDefs.OpCode.createTTL, new CreateTTLTxn("/t", new byte[] { 1 }, open, -1, 30000));
            t.stat("/c");
            t.stat("/t");
            t.stat("/");
            t.txn(s1, ZooDefs.OpCode.delete, new DeleteTxn("/a/b"));
            t.txn(s1, ZooDefs.OpCode.delete, new DeleteTxn("/a/b"));
            t.txn(s1, ZooDefs.OpCode.deleteContainer, new DeleteTxn("/c"));
            t.stat("/a");
            // A successful multi.
            t.txn(s1, ZooDefs.OpCode.multi, new MultiTxn(Arrays.asList(
                    sub(ZooDefs.OpCode.create, new CreateTxn("/m", new byte[0], open, false, -1)),
                    sub(ZooDefs.OpCode.create, new CreateTxn("/m/1", "x".getBytes(StandardCharsets.UTF_8), open, false, -1)),
                    sub(ZooDefs.OpCode.check, new CheckVersionTxn("/m", 0)),
                    sub(ZooDefs.OpCode.setData, new SetDataTxn("/m", "y".getBytes(StandardCharsets.UTF_8), 1)),
                    sub(ZooDefs.OpCode.delete, new DeleteTxn("/t")))));
            t.stat("/m");
            t.stat("/m/1");
            t.children("/");
            // A failed multi: ops before the error report OK, after it
            // RUNTIMEINCONSISTENCY, and nothing is applied.
            t.txn(s1, ZooDefs.OpCode.multi, new MultiTxn(Arrays.asList(
                    sub(ZooDefs.OpCode.create, new CreateTxn("/f", new byte[0], open, false, -1)),
                    sub(ZooDefs.OpCode.setData, new SetDataTxn("/m", "z".getBytes(StandardCharsets.UTF_8), 2)),
                    sub(ZooDefs.OpCode.error, new ErrorTxn(KeeperException.Code.NONODE.intValue())),
                    sub(ZooDefs.OpCode.delete, new DeleteTxn("/m/1")),
                    sub(ZooDefs.OpCode.error, new ErrorTxn(KeeperException.Code.RUNTIMEINCONSISTENCY.intValue())))));
            t.stat("/f");
            t.stat("/m");
            t.stat("/m/1");
            // A multi whose sub-op fails when applied (replay): later ops still run.
            t.txn(s1, ZooDefs.OpCode.multi, new MultiTxn(Arrays.asList(
                    sub(ZooDefs.OpCode.delete, new DeleteTxn("/nothing")),
                    sub(ZooDefs.OpCode.create, new CreateTxn("/m/2", new byte[0], open, true, -1)))));
            t.stat("/m/2");
            t.ephemerals(s1);
            // Close the session: listed paths and the rest of its ephemerals go.
            t.txn(s1, ZooDefs.OpCode.closeSession, new CloseSessionTxn(Arrays.asList("/a/eph")));
            t.stat("/a/eph");
            t.stat("/a/eph2");
            t.stat("/m/2");
            t.stat("/a");
            t.stat("/m");
            t.ephemerals(s1);
            t.children("/a");
        }
    }

    // ---------------------------------------------------------------- Java text (zktool)

    /*
     * jtext.txt, one case per line (tab-separated):
     *   utf8  IN-HEX  OUT-HEX    new String(in, UTF_8).getBytes(UTF_8)
     *   json  IN-HEX  OUT-HEX    JsonStringEncoder.quoteAsString(new String(in, UTF_8)) as UTF-8
     *   date  MS  SHORTLONG  TOSTRING   DateFormat SHORT/LONG and Date.toString in UTC, en_US
     *   map   KEYS  ORDER        HashMap<Long,Integer> put in KEYS order; ORDER = keySet order
     */
    static void genJavaText() throws IOException {
        java.util.TimeZone.setDefault(java.util.TimeZone.getTimeZone("UTC"));
        java.util.Locale.setDefault(java.util.Locale.US);
        Random r = new Random(20261203);
        int[] interesting = { 0x00, 0x0a, 0x22, 0x2c, 0x41, 0x5c, 0x7d, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0,
                              0xbf, 0xc0, 0xc1, 0xc2, 0xdf, 0xe0, 0xe1, 0xec, 0xed, 0xee, 0xef, 0xf0, 0xf1,
                              0xf3, 0xf4, 0xf5, 0xf8, 0xfe, 0xff, 0x01, 0x1f };
        com.fasterxml.jackson.core.io.JsonStringEncoder json =
                com.fasterxml.jackson.core.io.JsonStringEncoder.getInstance();
        try (PrintWriter out = open("jtext.txt")) {
            List<byte[]> inputs = new ArrayList<>();
            for (int i = 0; i < 3000; i++) {
                byte[] b = new byte[1 + r.nextInt(9)];
                for (int k = 0; k < b.length; k++)
                    b[k] = (byte) (r.nextInt(3) == 0 ? r.nextInt(256) : interesting[r.nextInt(interesting.length)]);
                inputs.add(b);
            }
            inputs.add("h\u00e9llo \u65e5\u672c \ud83d\ude00".getBytes(StandardCharsets.UTF_8));
            for (byte[] b : inputs) {
                String str = new String(b, StandardCharsets.UTF_8);
                out.println("utf8\t" + hex(b) + "\t" + hex(str.getBytes(StandardCharsets.UTF_8)));
                out.println("json\t" + hex(b) + "\t" + hex(new String(json.quoteAsString(str)).getBytes(StandardCharsets.UTF_8)));
            }
            long[] times = { 0L, -1L, -86400001L, 1L, 999L, 43200000L, 43199999L, 946684799999L, 946684800000L,
                             1796302587815L, 4102444800000L, 1700000000123L, 253402300799000L };
            List<Long> ts = new ArrayList<>();
            for (long t : times) ts.add(t);
            for (int i = 0; i < 20; i++) ts.add((long) (r.nextDouble() * 4102444800000L));
            for (long t : ts) {
                String sl = java.text.DateFormat.getDateTimeInstance(java.text.DateFormat.SHORT,
                        java.text.DateFormat.LONG).format(new java.util.Date(t));
                out.println("date\t" + t + "\t" + sl + "\t" + new java.util.Date(t));
            }
            for (int i = 0; i < 60; i++) {
                int n = r.nextInt(i < 30 ? 40 : 200);
                List<Long> keys = new ArrayList<>();
                java.util.HashMap<Long, Integer> m = new java.util.HashMap<>();
                for (int k = 0; k < n; k++) {
                    long key = r.nextInt(4) == 0 && !keys.isEmpty() ? keys.get(r.nextInt(keys.size()))
                             : (0x100000000000000L * (1 + r.nextInt(3))) + r.nextInt(1 << 20) * (long) (1 + r.nextInt(5000));
                    keys.add(key);
                    m.put(key, k);
                }
                StringBuilder ks = new StringBuilder(), os = new StringBuilder();
                for (long k : keys) ks.append(ks.length() > 0 ? " " : "").append(k);
                for (long k : m.keySet()) os.append(os.length() > 0 ? " " : "").append(k);
                out.println("map\t" + ks + "\t" + os);
            }
        }
    }

    public static void main(String[] args) throws Exception {
        outDir = new File(args[0]);
        genHashSets();
        genPaths();
        genAuth();
        genPasswords();
        genTree();
        genWatches();
        genTxns();
        genJavaText();
    }
}
