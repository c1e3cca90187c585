// Lock hand-off benchmark for Curator 5.4's InterProcessMutex: `n` clients
// (one session each) loop acquire/release on one path until `total`
// acquisitions or `maxMs` pass, each holding the lock `holdMs` (default 0)
// before releasing it; prints one JSON line: acquisitions, seconds, and
// hand-off latencies (previous release start -> next acquire) p50/p99 in ms.
// Usage: CuratorLockBench <connect> <path> <n> <total> <maxMs> [holdMs]
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.recipes.locks.InterProcessMutex;
import org.apache.curator.retry.ExponentialBackoffRetry;

public class CuratorLockBench {
  public static void main(String[] args) throws Exception {
    String connect = args[0], path = args[1];
    int n = Integer.parseInt(args[2]), total = Integer.parseInt(args[3]);
    long maxMs = Long.parseLong(args[4]);
    long holdMs = args.length > 5 ? Long.parseLong(args[5]) : 0;
    List<CuratorFramework> clients = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      CuratorFramework c = CuratorFrameworkFactory.newClient(connect, 30000, 15000, new ExponentialBackoffRetry(100, 5));
      c.start();
      c.blockUntilConnected(30, TimeUnit.SECONDS);
      clients.add(c);
    }
    AtomicInteger count = new AtomicInteger();
    AtomicLong lastRelease = new AtomicLong(0);
    List<Double> lat = Collections.synchronizedList(new ArrayList<>());
    long start = System.nanoTime();
    long end = start + maxMs * 1_000_000L;
    List<Thread> threads = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      InterProcessMutex m = new InterProcessMutex(clients.get(i), path);
      Thread t = new Thread(() -> {
        try {
          while (count.get() < total && System.nanoTime() < end) {
            if (!m.acquire(10, TimeUnit.SECONDS)) continue;
            long now = System.nanoTime();
            long prev = lastRelease.get();
            if (prev != 0) lat.add((now - prev) / 1e6);
            count.incrementAndGet();
            if (holdMs > 0) Thread.sleep(holdMs);
            lastRelease.set(System.nanoTime());
            m.release();
          }
        } catch (Exception e) {
          e.printStackTrace();
        }
      });
      threads.add(t);
      t.start();
    }
    for (Thread t : threads) t.join();
    double secs = (System.nanoTime() - start) / 1e9;
    List<Double> s = new ArrayList<>(lat);
    Collections.sort(s);
    double p50 = s.isEmpty() ? 0 : s.get(s.size() / 2);
    double p99 = s.isEmpty() ? 0 : s.get(Math.min(s.size() - 1, (int) (s.size() * 0.99)));
    System.out.println("{\"acquisitions\":" + count.get() + ",\"seconds\":" + secs + ",\"p50\":" + p50 + ",\"p99\":" + p99 + "}");
    for (CuratorFramework c : clients) c.close();
  }
}
