/**
 * The one serial queue through which a handle delivers everything the server
 * tells it: watch events, connection-state changes, and the settling of each
 * request's promise. Items leave in the order the server sent them.
 *
 * Guarantees (the Java client's, restated for promises):
 *  1. Events are delivered one at a time, in server order. A handler that
 *     returns a promise is awaited before the next event is delivered.
 *  2. A watcher is invoked before the promise of any reply that the server
 *     sent after the event settles, and before the code awaiting it resumes
 *     (an event is dispatched on a fresh macrotask after any reply settled
 *     ahead of it, so that reply's `await` continuations run first, and a
 *     reply queued behind an event waits until that event's handler ran).
 *     So a client sees "data changed" before it sees the new data.
 *  3. No deadlock when a handler awaits a ZooKeeper call: a request issued
 *     while a handler is running (synchronously, or while the queue awaits
 *     its promise) is settled as soon as its reply arrives, even if later
 *     events are still queued behind that handler. This matches a Java
 *     watcher that makes a synchronous call from the event thread.
 *  4. A handler that throws or rejects does not stop the queue; the error
 *     goes to `onHandlerError`.
 *
 * When nothing is queued (the common case), a reply settles synchronously
 * from the socket handler: no extra hop on the hot path.
 */
import { Fifo } from './fifo';

class Item {
  constructor(
    /** For replies: the resolve/reject function; null for events. */
    readonly settle: ((value: any) => void) | null,
    readonly value: unknown,
    /** For events: runs the handlers; may return a promise to await. */
    readonly run: (() => unknown) | null,
  ) {}
}

export class EventQueue {
  private readonly items = new Fifo<Item>(16);
  private scheduled = false;
  /** True while a handler runs synchronously or its returned promise is awaited. */
  private handlerActive = false;
  /** The previous item delivered in this drain was a reply: yield a macrotask before the next event. */
  private yieldBeforeEvent = false;
  private readonly drainBound = () => this.drain();

  constructor(private readonly onHandlerError: (err: unknown) => void) {}

  /** True when a request issued now must not wait behind queued events (guarantee 3). */
  get inHandler(): boolean {
    return this.handlerActive;
  }

  /** Items waiting (events and replies). */
  get size(): number {
    return this.items.length;
  }

  /**
   * Settles a reply's promise in order: at once when nothing is queued or
   * when `bypass` is set (the request came from inside a handler), else
   * after the events queued before it.
   */
  reply(settle: (value: any) => void, value: unknown, bypass: boolean): void {
    if (this.items.length === 0 || bypass) {
      settle(value);
      return;
    }
    this.items.push(new Item(settle, value, null));
  }

  /** Queues an event delivery; `run` calls the handlers and may return a promise. */
  event(run: () => unknown): void {
    this.items.push(new Item(null, undefined, run));
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled || this.handlerActive) return;
    this.scheduled = true;
    setImmediate(this.drainBound);
  }

  private drain(): void {
    this.scheduled = false;
    for (;;) {
      const item = this.items.peek();
      if (item === undefined) {
        this.yieldBeforeEvent = false;
        return;
      }
      if (item.settle !== null) {
        this.items.shift();
        item.settle(item.value);
        this.yieldBeforeEvent = true;
        continue;
      }
      if (this.yieldBeforeEvent) {
        // Let the continuations of the replies just settled run before the event.
        this.yieldBeforeEvent = false;
        this.schedule();
        return;
      }
      this.items.shift();
      this.handlerActive = true;
      let result: unknown;
      try {
        result = item.run!();
      } catch (err) {
        this.onHandlerError(err);
      }
      if (result !== null && typeof result === 'object' && typeof (result as PromiseLike<unknown>).then === 'function') {
        (result as PromiseLike<unknown>).then(
          () => this.resume(),
          (err) => {
            this.onHandlerError(err);
            this.resume();
          },
        );
        return;
      }
      this.handlerActive = false;
    }
  }

  private resume(): void {
    this.handlerActive = false;
    this.drain();
  }
}

/** Awaits each handler in turn when it returns a promise; one event's watchers run in order too. */
export function runHandlers<A>(handlers: readonly ((arg: A) => unknown)[], arg: A, onError: (err: unknown) => void): unknown {
  for (let i = 0; i < handlers.length; i++) {
    let r: unknown;
    try {
      r = handlers[i](arg);
    } catch (err) {
      onError(err);
      continue;
    }
    if (r !== null && typeof r === 'object' && typeof (r as PromiseLike<unknown>).then === 'function') {
      const rest = handlers.slice(i + 1);
      return (r as PromiseLike<unknown>).then(
        () => runHandlers(rest, arg, onError),
        (err) => {
          onError(err);
          return runHandlers(rest, arg, onError);
        },
      );
    }
  }
  return undefined;
}
