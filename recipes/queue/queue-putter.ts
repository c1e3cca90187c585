/**
 * How a producer puts an item exactly once. A plain sequential create
 * whose reply is lost cannot be retried (a second item) nor dropped (maybe
 * none). We create the item in a multi with an ephemeral receipt
 * `<queue>/put-<producer uuid>-<n>`: after a lost reply the receipt tells
 * whether the item exists, and the put is retried only when it does not.
 * The receipt is deleted afterwards; consumers skip it (wrong prefix).
 */
import { randomUUID } from 'crypto';
import { CreateMode, KeeperError, NoNodeError, Op, ZooKeeper, isRetriable } from '../../src';
import type { CreateResult } from '../../src';
import { IndeterminateResultError, isSessionEnd } from '../cache/support/recipe-errors';
import { ensureContainers, joinPath } from '../cache/support/recipe-paths';
import { Deadline, retryForever, untilConnected } from '../cache/support/recipe-wait';

export class QueuePutter {
  private readonly producerId = randomUUID();
  private counter = 0;

  constructor(private readonly zk: ZooKeeper, private readonly path: string) {}

  /** Creates `<queue>/<namePrefix><seq>` with `data`; resolves with the item's name ('' when only the receipt proved it). */
  async put(namePrefix: string, data: Buffer): Promise<string> {
    const receipt = joinPath(this.path, `put-${this.producerId}-${++this.counter}`);
    const ops = [Op.create(joinPath(this.path, namePrefix), data, { mode: CreateMode.PERSISTENT_SEQUENTIAL }), Op.create(receipt, null, { mode: CreateMode.EPHEMERAL })];
    for (;;) {
      try {
        const results = await this.zk.multi(ops);
        this.dropReceipt(receipt);
        return nameOf((results[0] as CreateResult).path);
      } catch (err) {
        if (err instanceof KeeperError && err.opIndex !== undefined) {
          if (err instanceof NoNodeError) {
            await retryForever(this.zk, () => ensureContainers(this.zk, this.path));
            continue;
          }
          throw err;
        }
        if (isSessionEnd(err)) {
          throw new IndeterminateResultError(`session lost while putting into ${this.path}: the item may or may not be queued`, { cause: err });
        }
        if (!isRetriable(err)) throw err;
      }
      try {
        await untilConnected(this.zk, new Deadline());
        if ((await retryForever(this.zk, () => this.zk.exists(receipt))) !== null) {
          this.dropReceipt(receipt);
          return '';
        }
      } catch (err) {
        if (isSessionEnd(err)) {
          throw new IndeterminateResultError(`session lost while putting into ${this.path}: the item may or may not be queued`, { cause: err });
        }
        throw err;
      }
    }
  }

  private dropReceipt(receipt: string): void {
    void retryForever(this.zk, () =>
      this.zk.delete(receipt).catch((e) => {
        if (!(e instanceof NoNodeError)) throw e;
      }),
    ).catch(() => undefined);
  }
}

function nameOf(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}
