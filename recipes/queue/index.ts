/** Queues: FIFO, priority, and locking (take / ack / release) queues. */
export { DistributedQueue } from './distributed-queue';
export { PriorityQueue, priorityToString } from './priority-queue';
export { LockingQueue, QueueItem } from './locking-queue';
export type { LockingQueueOptions } from './locking-queue';
export { serializeItems, deserializeItems } from './item-serializer';
