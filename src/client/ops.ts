/**
 * Operations for multi() and multiRead(): builders (`Op.create(...)`), the
 * MultiRequest encoding and the MultiResponse decoding.
 *
 * Wire shape (ZooKeeper's MultiOperationRecord / MultiResponse): a run of
 * MultiHeader{type, done=false, err=-1} followed by the op's request record,
 * ended by MultiHeader{-1, true, -1}. The response is a run of
 * MultiHeader{type, done=false, err} + the op's response record (or an
 * ErrorResponse when type is -1), ended the same way.
 */
import { JuteReader, JuteWriter } from '../jute';
import { CreateMode, ErrorCode, OpCode, isContainer, isSequential, isTTL } from '../proto/constants';
// Records from their defining modules, not the generated index: its `export *`
// re-exports are getters, paid on every use in the request hot path.
import { Stat } from '../proto/generated/data';
import type { ACLFields } from '../proto/generated/data';
import {
  CheckVersionRequest,
  Create2Response,
  CreateRequest,
  CreateResponse,
  CreateTTLRequest,
  DeleteRequest,
  ErrorResponse,
  GetChildrenRequest,
  GetChildrenResponse,
  GetDataRequest,
  GetDataResponse,
  MultiHeader,
  SetDataRequest,
  SetDataResponse,
} from '../proto/generated/proto';
import { Ids } from '../proto/ids';
import { pathProblem } from '../proto/path';
import { BadArgumentsError, InvalidACLError, KeeperError, MarshallingError } from './errors';

/** Node data as accepted by the API: bytes, or a string sent as UTF-8. */
export type Data = Buffer | Uint8Array | string | null | undefined;

/** How create, create2, Op.create and Transaction.create make a node. */
export interface CreateOptions {
  /** CreateMode (default PERSISTENT). */
  mode?: CreateMode;
  /** ACL list (default OPEN_ACL_UNSAFE); plain `{ perms, id: { scheme, id } }` objects or ACL records. */
  acl?: readonly ACLFields[];
  /** Time to live in ms; required with the TTL modes, refused with the others. */
  ttl?: number | bigint;
}

/** A create in a multi() (made by {@link Op.create}). */
export type CreateOp = {
  /** The op kind. */
  type: 'create';
  /** The node to create, relative to the chroot (the parent for sequential modes' names). */
  path: string;
  /** The node's data (null for none). */
  data: Buffer | null;
  /** The node's ACL. */
  acl: readonly ACLFields[];
  /** The CreateMode. */
  mode: CreateMode;
  /** Time to live in ms for the TTL modes; -1n otherwise. */
  ttl: bigint;
};
/** A delete in a multi() (made by {@link Op.delete}). */
export type DeleteOp = {
  /** The op kind. */
  type: 'delete';
  /** The node to delete. */
  path: string;
  /** The expected version; -1 matches any. */
  version: number;
};
/** A setData in a multi() (made by {@link Op.setData}). */
export type SetDataOp = {
  /** The op kind. */
  type: 'setData';
  /** The node to set. */
  path: string;
  /** The new data (null for none). */
  data: Buffer | null;
  /** The expected version; -1 matches any. */
  version: number;
};
/** A version check in a multi() (made by {@link Op.check}): the multi fails unless it holds. */
export type CheckOp = {
  /** The op kind. */
  type: 'check';
  /** The node to check. */
  path: string;
  /** The version the node must have; -1 only checks that it exists. */
  version: number;
};
/** A read of a node's data in a multiRead() (made by {@link Op.getData}). */
export type GetDataOp = {
  /** The op kind. */
  type: 'getData';
  /** The node to read. */
  path: string;
};
/** A read of a node's children in a multiRead() (made by {@link Op.getChildren}). */
export type GetChildrenOp = {
  /** The op kind. */
  type: 'getChildren';
  /** The node whose children to list. */
  path: string;
};
/** An op of multi() (create/delete/setData/check) or multiRead() (getData/getChildren). */
export type Op = CreateOp | DeleteOp | SetDataOp | CheckOp | GetDataOp | GetChildrenOp;

/** The result of a create op. */
export type CreateResult = {
  /** The op kind. */
  type: 'create';
  /** The created node's path (with the sequence suffix for sequential modes), relative to the chroot. */
  path: string;
  /** The new node's Stat (null only from servers that answer with a plain create). */
  stat: Stat | null;
};
/** The result of a delete op. */
export type DeleteResult = {
  /** The op kind. */
  type: 'delete';
};
/** The result of a setData op. */
export type SetDataResult = {
  /** The op kind. */
  type: 'setData';
  /** The node's Stat after the change. */
  stat: Stat;
};
/** The result of a check op. */
export type CheckResult = {
  /** The op kind. */
  type: 'check';
};
/** The result of a getData op of multiRead(). */
export type GetDataResult = {
  /** The op kind. */
  type: 'getData';
  /** The node's data (null for none). */
  data: Buffer | null;
  /** The node's Stat. */
  stat: Stat;
};
/** The result of a getChildren op of multiRead(). */
export type GetChildrenResult = {
  /** The op kind. */
  type: 'getChildren';
  /** The children's names, unsorted. */
  children: string[];
};
/** A failed op; `err` is the wire code (0 for ops before the failing one of a failed multi). */
export type ErrorResult = {
  /** Always 'error'. */
  type: 'error';
  /**
   * The op's ErrorCode. In a failed multi every op gets one: 0 before the
   * failing op, RUNTIMEINCONSISTENCY (-2) after it.
   */
  err: number;
  /** The KeeperError for `err`, with the op's path; null when `err` is 0. */
  error: KeeperError | null;
};
/** One result of multi() or multiRead(), in op order. */
export type OpResult = CreateResult | DeleteResult | SetDataResult | CheckResult | GetDataResult | GetChildrenResult | ErrorResult;

/** Builders for multi() and multiRead() operations. */
export const Op = {
  /** Creates a node (any mode; TTL modes need `ttl`). */
  create(path: string, data?: Data, options: CreateOptions = {}): CreateOp {
    if (options === null || typeof options !== 'object') throw new BadArgumentsError('create options must be an object', path);
    return {
      type: 'create',
      path,
      data: toBuffer(data),
      acl: options.acl ?? Ids.OPEN_ACL_UNSAFE,
      mode: options.mode ?? CreateMode.PERSISTENT,
      ttl: options.ttl === undefined ? -1n : BigInt(options.ttl),
    };
  },
  /** Deletes a node; version -1 matches any. */
  delete(path: string, version = -1): DeleteOp {
    return { type: 'delete', path, version };
  },
  /** Sets a node's data; version -1 matches any. */
  setData(path: string, data: Data, version = -1): SetDataOp {
    return { type: 'setData', path, data: toBuffer(data), version };
  },
  /** Fails the multi unless the node's version matches (-1 = only that it exists). */
  check(path: string, version: number): CheckOp {
    return { type: 'check', path, version };
  },
  /** multiRead(): a node's data and stat. */
  getData(path: string): GetDataOp {
    return { type: 'getData', path };
  },
  /** multiRead(): a node's children. */
  getChildren(path: string): GetChildrenOp {
    return { type: 'getChildren', path };
  },
};

/** Node data as bytes: a string is sent as UTF-8, null/undefined as no data (a null buffer on the wire). */
export function toBuffer(data: Data): Buffer | null {
  if (data === null || data === undefined) return null;
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  if (Buffer.isBuffer(data)) return data;
  if (data instanceof Uint8Array) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  throw new BadArgumentsError('node data must be a Buffer, Uint8Array, string or null');
}

/**
 * Paths that passed the check lately. Applications read and write the same
 * nodes again and again, and the per-character check showed up in profiles
 * of pipelined reads (4% of the client's CPU); a hit skips it. Bounded: the
 * set starts over when full.
 */
const validPaths = new Set<string>();
const VALID_PATHS_MAX = 1024;

/** Refuses a bad path with BadArgumentsError before anything is sent. */
export function checkPath(path: string, sequential = false): void {
  if (!sequential && validPaths.has(path)) return;
  const problem = pathProblem(path, sequential);
  if (problem === null) {
    if (!sequential) {
      if (validPaths.size >= VALID_PATHS_MAX) validPaths.clear();
      validPaths.add(path);
    }
    return;
  }
  throw new BadArgumentsError(`Invalid path ${JSON.stringify(path)}: ${problem}`, path);
}

/** Checks a create's mode, ttl and ACL the way the Java client does before sending. */
export function checkCreate(path: string, mode: number, acl: readonly ACLFields[] | null | undefined, ttl: bigint): void {
  if (!Number.isInteger(mode) || mode < 0 || mode > 6) throw new BadArgumentsError(`unknown create mode ${mode}`, path);
  checkPath(path, isSequential(mode));
  checkAcl(acl, path);
  if (isTTL(mode)) {
    if (ttl <= 0n) throw new BadArgumentsError('a TTL create mode needs ttl > 0', path);
  } else if (ttl > 0n) {
    throw new BadArgumentsError(`ttl given for non-TTL create mode ${mode}`, path);
  }
}

/** Refuses an empty or malformed ACL list before it reaches the encoder (Java: InvalidACLException). */
export function checkAcl(acl: readonly ACLFields[] | null | undefined, path?: string): void {
  if (!Array.isArray(acl) || acl.length === 0) throw new InvalidACLError('ACL list must not be empty', path);
  for (const a of acl) {
    if (
      a === null ||
      typeof a !== 'object' ||
      !Number.isInteger(a.perms) ||
      a.id === null ||
      typeof a.id !== 'object' ||
      typeof a.id.scheme !== 'string' ||
      typeof a.id.id !== 'string'
    ) {
      throw new InvalidACLError('each ACL needs integer perms and an id {scheme, id}', path);
    }
  }
}

/** The opcode a create uses: createTTL / createContainer for those modes, else create2 (replies with a Stat). */
export function createOpcode(mode: number): number {
  if (isTTL(mode)) return OpCode.createTTL;
  if (isContainer(mode)) return OpCode.createContainer;
  return OpCode.create2;
}

/** Writes a create request record for the opcode createOpcode() chose. */
export function writeCreate(w: JuteWriter, serverPath: string, data: Buffer | null, acl: readonly ACLFields[], mode: number, ttl: bigint): void {
  // The record constructors turn plain ACL objects into records.
  const list = acl as ACLFields[];
  if (isTTL(mode)) new CreateTTLRequest({ path: serverPath, data, acl: list, flags: mode, ttl }).serialize(w);
  else new CreateRequest({ path: serverPath, data, acl: list, flags: mode }).serialize(w);
}

const WRITE_OPS = new Set(['create', 'delete', 'setData', 'check']);
const READ_OPS = new Set(['getData', 'getChildren']);

/** Validates a multi()/multiRead() op list before anything is sent. */
export function checkOps(ops: readonly Op[], read: boolean): void {
  if (!Array.isArray(ops)) throw new BadArgumentsError('ops must be an array');
  const allowed = read ? READ_OPS : WRITE_OPS;
  ops.forEach((op, i) => {
    if (op === null || typeof op !== 'object' || !allowed.has(op.type)) {
      throw new BadArgumentsError(
        `op #${i} (${(op as Op | null)?.type}) is not allowed in ${read ? 'multiRead' : 'multi'}; use ${[...allowed].join('/')}`,
      );
    }
    if (op.type === 'create') checkCreate(op.path, op.mode, op.acl, op.ttl);
    else checkPath(op.path);
  });
}

/** Encodes a MultiRequest body (after the RequestHeader). */
export function writeMulti(w: JuteWriter, ops: readonly Op[], toServer: (p: string) => string): void {
  for (const op of ops) {
    const path = toServer(op.path);
    switch (op.type) {
      case 'create':
        new MultiHeader({ type: createOpcode(op.mode), done: false, err: -1 }).serialize(w);
        writeCreate(w, path, op.data, op.acl, op.mode, op.ttl);
        break;
      case 'delete':
        new MultiHeader({ type: OpCode.delete, done: false, err: -1 }).serialize(w);
        new DeleteRequest({ path, version: op.version }).serialize(w);
        break;
      case 'setData':
        new MultiHeader({ type: OpCode.setData, done: false, err: -1 }).serialize(w);
        new SetDataRequest({ path, data: op.data, version: op.version }).serialize(w);
        break;
      case 'check':
        new MultiHeader({ type: OpCode.check, done: false, err: -1 }).serialize(w);
        new CheckVersionRequest({ path, version: op.version }).serialize(w);
        break;
      case 'getData':
        new MultiHeader({ type: OpCode.getData, done: false, err: -1 }).serialize(w);
        new GetDataRequest({ path, watch: false }).serialize(w);
        break;
      case 'getChildren':
        new MultiHeader({ type: OpCode.getChildren, done: false, err: -1 }).serialize(w);
        new GetChildrenRequest({ path, watch: false }).serialize(w);
        break;
    }
  }
  new MultiHeader({ type: -1, done: true, err: -1 }).serialize(w);
}

/**
 * Decodes a MultiResponse body. `ops` gives each error result its path;
 * `toClient` strips the chroot from created paths.
 */
export function readMultiResponse(r: JuteReader, ops: readonly Op[], toClient: (p: string) => string): OpResult[] {
  const results: OpResult[] = [];
  for (;;) {
    const h = MultiHeader.decode(r);
    if (h.done) break;
    switch (h.type) {
      case OpCode.create:
        results.push({ type: 'create', path: toClient(CreateResponse.decode(r).path), stat: null });
        break;
      case OpCode.create2:
      case OpCode.createTTL:
      case OpCode.createContainer: {
        const res = Create2Response.decode(r);
        results.push({ type: 'create', path: toClient(res.path), stat: res.stat });
        break;
      }
      case OpCode.delete:
        results.push({ type: 'delete' });
        break;
      case OpCode.setData:
        results.push({ type: 'setData', stat: SetDataResponse.decode(r).stat });
        break;
      case OpCode.check:
        results.push({ type: 'check' });
        break;
      case OpCode.getData: {
        const res = GetDataResponse.decode(r);
        results.push({ type: 'getData', data: res.data, stat: res.stat });
        break;
      }
      case OpCode.getChildren:
        results.push({ type: 'getChildren', children: GetChildrenResponse.decode(r).children });
        break;
      case OpCode.error: {
        const err = ErrorResponse.decode(r).err;
        const op = ops[results.length];
        const error = err === ErrorCode.OK ? null : KeeperError.create(err, op?.path);
        results.push({ type: 'error', err, error });
        break;
      }
      default:
        throw new MarshallingError(`unexpected op type ${h.type} in a multi response`);
    }
    if (results.length > ops.length) throw new MarshallingError('multi response has more results than ops');
  }
  return results;
}

/**
 * The error a failed multi() rejects with: the KeeperError subclass of the
 * first failing op (so `instanceof NoNodeError` works), carrying that op's
 * index and path and all per-op results.
 */
export function multiFailure(results: OpResult[], ops: readonly Op[]): KeeperError | null {
  const index = results.findIndex((r) => r.type === 'error' && r.err !== ErrorCode.OK);
  if (index < 0) return null;
  const failed = results[index] as ErrorResult;
  const op = ops[index];
  const name = KeeperError.codeName(failed.err);
  const err = KeeperError.create(
    failed.err,
    op?.path,
    `${name}: multi op #${index} (${op?.type} ${op?.path}) failed; no op was applied`,
  );
  err.opIndex = index;
  err.results = results;
  return err;
}

/** What a Transaction commits through: a ZooKeeper handle (or anything with its multi()). */
export interface MultiRunner {
  /** Applies the ops atomically (see ZooKeeper.multi). */
  multi(ops: Op[]): Promise<OpResult[]>;
}

/**
 * Collects ops for one multi(): `zk.transaction().check('/a', 1).setData('/a', d).commit()`.
 * Nothing is sent before commit(); an argument error (a bad path) rejects
 * the commit, with nothing applied.
 */
export class Transaction {
  private readonly ops: Op[] = [];
  /** A transaction that commits through `zk`; usually made by {@link ZooKeeper.transaction}. */
  constructor(private readonly zk: MultiRunner) {}
  /** Adds a create (any mode; TTL modes need `ttl`). */
  create(path: string, data?: Data, options?: CreateOptions): this {
    this.ops.push(Op.create(path, data, options));
    return this;
  }
  /** Adds a delete; version -1 matches any. */
  delete(path: string, version = -1): this {
    this.ops.push(Op.delete(path, version));
    return this;
  }
  /** Adds a setData; version -1 matches any. */
  setData(path: string, data: Data, version = -1): this {
    this.ops.push(Op.setData(path, data, version));
    return this;
  }
  /** Adds a version check. */
  check(path: string, version: number): this {
    this.ops.push(Op.check(path, version));
    return this;
  }
  /**
   * Sends the ops as one multi(). Resolves with one result per op; rejects
   * like ZooKeeper.multi (the failing op's KeeperError subclass, with
   * `opIndex` and `results`), and then none of the ops was applied.
   */
  commit(): Promise<OpResult[]> {
    return this.zk.multi(this.ops);
  }
}
