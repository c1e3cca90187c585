// A Curator 5.4 contender for the interop tests: takes a recipe on a path
// `rounds` times and reports on stdout "HOLD" right after it holds and
// "FREE" right before it lets go (then waits 30 ms, so the line reaches the
// test before the next holder can), then "DONE". Usage:
//   CuratorContender <connect> <mutex|write|read|semaphore:<n>|latch> <path> <rounds> <holdMs>
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.recipes.leader.LeaderLatch;
import org.apache.curator.framework.recipes.locks.InterProcessMutex;
import org.apache.curator.framework.recipes.locks.InterProcessReadWriteLock;
import org.apache.curator.framework.recipes.locks.InterProcessSemaphoreV2;
import org.apache.curator.framework.recipes.locks.Lease;
import org.apache.curator.retry.ExponentialBackoffRetry;

public class CuratorContender {
  static void say(String s) {
    System.out.println(s);
    System.out.flush();
  }

  public static void main(String[] args) throws Exception {
    String connect = args[0], kind = args[1], path = args[2];
    int rounds = Integer.parseInt(args[3]);
    long holdMs = Long.parseLong(args[4]);
    CuratorFramework client = CuratorFrameworkFactory.newClient(connect, 10000, 5000, new ExponentialBackoffRetry(100, 5));
    client.start();
    client.blockUntilConnected(30, TimeUnit.SECONDS);
    say("READY");
    if (kind.equals("latch")) {
      LeaderLatch latch = new LeaderLatch(client, path, "curator");
      latch.start();
      for (int i = 0; i < rounds; i++) {
        latch.await();
        say("HOLD");
        Thread.sleep(holdMs);
        say("FREE");
        Thread.sleep(30);
        latch.close();
        latch = new LeaderLatch(client, path, "curator");
        latch.start();
      }
      latch.close();
    } else if (kind.startsWith("semaphore:")) {
      InterProcessSemaphoreV2 sem = new InterProcessSemaphoreV2(client, path, Integer.parseInt(kind.substring(10)));
      for (int i = 0; i < rounds; i++) {
        Lease lease = sem.acquire();
        say("HOLD");
        Thread.sleep(holdMs);
        say("FREE");
        Thread.sleep(30);
        sem.returnLease(lease);
      }
    } else {
      InterProcessMutex lock;
      if (kind.equals("mutex")) lock = new InterProcessMutex(client, path);
      else if (kind.equals("write")) lock = new InterProcessReadWriteLock(client, path).writeLock();
      else lock = new InterProcessReadWriteLock(client, path).readLock();
      for (int i = 0; i < rounds; i++) {
        lock.acquire();
        say("HOLD");
        Thread.sleep(holdMs);
        say("FREE");
        Thread.sleep(30);
        lock.release();
      }
    }
    say("DONE");
    client.close();
  }
}
