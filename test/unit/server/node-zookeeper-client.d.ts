/** The part of node-zookeeper-client (untyped JS, devDependency) the server tests use. */
declare module 'node-zookeeper-client' {
  type Callback<T> = (err: Error | null, value: T) => void;
  export interface Event {
    getType(): number;
    getPath(): string;
  }
  export const Event: { NODE_CREATED: number; NODE_DELETED: number; NODE_DATA_CHANGED: number; NODE_CHILDREN_CHANGED: number };
  export const CreateMode: { PERSISTENT: number; PERSISTENT_SEQUENTIAL: number; EPHEMERAL: number; EPHEMERAL_SEQUENTIAL: number };
  export interface Transaction {
    create(path: string, data?: Buffer, mode?: number): Transaction;
    setData(path: string, data: Buffer | null, version?: number): Transaction;
    remove(path: string, version?: number): Transaction;
    check(path: string, version: number): Transaction;
    commit(cb: Callback<unknown[]>): void;
  }
  export interface Client {
    connect(): void;
    close(): void;
    once(event: 'connected' | 'disconnected' | 'expired', fn: () => void): void;
    create(path: string, data: Buffer, mode: number, cb: Callback<string>): void;
    getData(path: string, watcher: (e: Event) => void, cb: Callback<Buffer>): void;
    getData(path: string, cb: Callback<Buffer>): void;
    setData(path: string, data: Buffer | null, version: number, cb: Callback<unknown>): void;
    getChildren(path: string, cb: Callback<string[]>): void;
    exists(path: string, cb: Callback<unknown>): void;
    remove(path: string, version: number, cb: Callback<unknown>): void;
    transaction(): Transaction;
  }
  export function createClient(connectString: string, options?: { sessionTimeout?: number; spinDelay?: number; retries?: number }): Client;
}
