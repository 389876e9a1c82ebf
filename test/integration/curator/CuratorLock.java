// CuratorLock.java — Curator's InterProcessMutex on one path, for the zkfs
// lock interoperability test (test_zkfs_locks.sh):
//   CuratorLock HOSTS PATH hold MS    acquire (wait up to 20 s), print
//                                     "held", hold MS ms, release, "released"
//   CuratorLock HOSTS PATH try MS     acquire waiting at most MS ms: print
//                                     "got" (then release) or "busy"
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.recipes.locks.InterProcessMutex;
import org.apache.curator.retry.RetryNTimes;

public class CuratorLock {
    public static void main(String[] args) throws Exception {
        CuratorFramework c = CuratorFrameworkFactory.newClient(args[0], 10000, 5000,
                new RetryNTimes(3, 200));
        c.start();
        if (!c.blockUntilConnected(10, TimeUnit.SECONDS))
            throw new IllegalStateException("not connected");
        InterProcessMutex m = new InterProcessMutex(c, args[1]);
        long ms = Long.parseLong(args[3]);
        if (args[2].equals("hold")) {
            if (!m.acquire(20, TimeUnit.SECONDS))
                throw new IllegalStateException("could not acquire");
            System.out.println("held");
            System.out.flush();
            Thread.sleep(ms);
            m.release();
            System.out.println("released");
        } else {
            boolean got = m.acquire(ms, TimeUnit.MILLISECONDS);
            System.out.println(got ? "got" : "busy");
            if (got)
                m.release();
        }
        System.out.flush();
        c.close();
    }
}
