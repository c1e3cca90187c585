/**
 * Every call of the ZooKeeper handle that is one request, described once:
 * how its arguments are checked and its request is built (chroot added),
 * how a successful reply decodes, and which watch the reply registers.
 * The handle (zookeeper.ts) only says which operation a method is; the
 * session (session.ts) runs any of them the same way:
 *
 *   build (may throw BadArguments: nothing is sent) -> send -> reply:
 *   error code != OK -> the KeeperError subclass (exists: NoNode -> null,
 *   with an exist watch); OK -> decode -> register the watch -> resolve.
 *
 * Watch registration follows the Java client (see watch-manager.ts): only
 * when the reply says the call succeeded, in reply order.
 */
import type { JuteReader } from '../jute/reader';
import type { Record } from '../jute/record';
import { AddWatchMode, CreateMode, ErrorCode, OpCode, WatcherType } from '../proto/constants';
// Records from their defining modules, not the generated index: its `export *`
// re-exports are getters, paid on every use in the request hot path.
import { ACL, ClientInfo, Stat } from '../proto/generated/data';
import {
  AddWatchRequest,
  CheckWatchesRequest,
  Create2Response,
  CreateRequest,
  CreateTTLRequest,
  DeleteRequest,
  ExistsRequest,
  GetACLRequest,
  GetACLResponse,
  GetAllChildrenNumberRequest,
  GetChildren2Request,
  GetChildren2Response,
  GetChildrenRequest,
  GetChildrenResponse,
  GetDataRequest,
  GetEphemeralsRequest,
  GetEphemeralsResponse,
  ReconfigRequest,
  RemoveWatchesRequest,
  SetACLRequest,
  SetDataRequest,
  SyncRequest,
  SyncResponse,
  WhoAmIResponse,
} from '../proto/generated/proto';
import { Ids } from '../proto/ids';
import type { AclEntry } from './acl';
import { Request } from './connection';
import { BadArgumentsError, KeeperError, NoWatcherError } from './errors';
import {
  CreateOptions,
  Data,
  Op,
  OpResult,
  checkAcl,
  checkCreate,
  checkOps,
  checkPath,
  createOpcode,
  multiFailure,
  readMultiResponse,
  toBuffer,
  writeMulti,
} from './ops';
import { Watcher, WatchKind, WatchManager } from './watch-manager';

/** A watch argument: a function, or `true` for the default watcher. */
export type WatchArg = Watcher | boolean | null | undefined;

/**
 * A node's data and Stat (getData, getConfig, reconfig). `data` is null
 * exactly when the node holds no data: created or last set with null or
 * undefined (or by another client sending a null buffer). A node set to an
 * empty Buffer or '' gives an empty Buffer, never null.
 */
export interface NodeData {
  /** The node's data; null only for a node holding no data. */
  data: Buffer | null;
  /** The node's Stat when it was read. */
  stat: Stat;
}

/** What create2 resolves with. */
export interface Create2Result {
  /** The created node's path (with the sequence suffix for sequential modes), relative to the chroot. */
  path: string;
  /** The new node's Stat. */
  stat: Stat;
}

/**
 * A reconfig's change: either incremental (`joining` and/or `leaving`) or
 * bulk (`newMembers`), as in Java's ZooKeeperAdmin.reconfigure.
 */
export interface ReconfigOptions {
  /** Servers to add, `server.N=host:port:port[:role];clientPort` joined by commas. */
  joining?: string | null;
  /** Server ids to remove, comma-separated. */
  leaving?: string | null;
  /** A whole new membership (non-incremental reconfig). */
  newMembers?: string | null;
  /** Only apply if the current config version is this (default -1: any). */
  fromConfig?: bigint | number;
}

/** What an operation needs from the session that runs it. */
export interface OpContext {
  readonly watches: WatchManager;
  /** True when the connection can carry requests now (handshake and SASL done). */
  readonly isReady: boolean;
  /** Adds the chroot. */
  toServer(path: string): string;
  /** Strips the chroot. */
  toClient(serverPath: string): string;
  /** The watcher a watch argument stands for (BadArguments for anything else). */
  watcherOf(watch: WatchArg): Watcher | null;
  /** Removes watchers on the client and tells them (DataWatchRemoved...). */
  removeLocally(path: string, serverPath: string, watcher: Watcher | null, type: WatcherType): void;
  /** Settles a request in event order. */
  resolve(req: Request, value: unknown): void;
  reject(req: Request, err: KeeperError): void;
}

/** One request-shaped call of the handle. */
export interface Operation {
  /**
   * Checks the arguments (throwing BadArguments/InvalidACL before anything
   * is sent) and builds the request; null when the call completed on the
   * client without a request (a local watch removal while disconnected).
   */
  build(ctx: OpContext, a?: any, b?: any, c?: any, d?: any): Request | null;
  /** Decodes a successful reply body into the call's result (throws on an undecodable body). */
  decode(r: JuteReader, req: Request, ctx: OpContext): unknown;
  /** When set, a NoNode reply resolves with null and registers a watch of this kind (exists). */
  absent?: WatchKind;
  /** The error a decoded result stands for (a multi whose op failed), or null. */
  failure?(value: unknown, req: Request): KeeperError | null;
  /** Replaces the standard reply handling entirely (watch removal). */
  onReply?(ctx: OpContext, req: Request, err: number): void;
  /** Replaces the standard failure handling (a local watch removal succeeds without the server). */
  onFail?(ctx: OpContext, req: Request, err: KeeperError): void;
}

/** The node that holds the ensemble configuration (never under the chroot). */
export const CONFIG_NODE = '/zookeeper/config';

/** A request about one client path: checked, chroot added, bound to its operation. */
function onPath(ctx: OpContext, op: Operation, type: number, path: string, sequential = false): Request {
  checkPath(path, sequential);
  const serverPath = ctx.toServer(path);
  return new Request(type, null, path, serverPath, op);
}

/** Sets the watcher a reply will register (when the call asked for one). */
function watching(req: Request, watcher: Watcher | null, kind: WatchKind): Request {
  if (watcher !== null) {
    req.watcher = watcher;
    req.watchKind = kind;
  }
  return req;
}

const nothing = (): undefined => undefined;
const decodeStat = (r: JuteReader): Stat => Stat.decode(r);
// GetDataResponse{buffer data; Stat stat}, read straight into the result (no intermediate record).
const decodeNodeData = (r: JuteReader): NodeData => {
  const data = r.readBuffer();
  return { data, stat: Stat.decode(r) };
};

function buildCreate(ctx: OpContext, op: Operation, path: string, data: Data, options: CreateOptions = {}): Request {
  const mode = options.mode ?? CreateMode.PERSISTENT;
  const acl = (options.acl ?? Ids.OPEN_ACL_UNSAFE) as AclEntry[];
  const ttl = options.ttl === undefined || options.ttl === null ? -1n : BigInt(options.ttl);
  checkCreate(path, mode, acl, ttl);
  const buf = toBuffer(data);
  const type = createOpcode(mode);
  const req = onPath(ctx, op, type, path, false);
  req.record =
    type === OpCode.createTTL
      ? new CreateTTLRequest({ path: req.serverPath, data: buf, acl, flags: mode, ttl })
      : new CreateRequest({ path: req.serverPath, data: buf, acl, flags: mode });
  return req;
}

/** create(path, data, options): resolves with the created path. */
export const CREATE: Operation = {
  build: (ctx, path: string, data: Data, options?: CreateOptions) => buildCreate(ctx, CREATE, path, data, options),
  decode: (r, _req, ctx) => ctx.toClient(Create2Response.decode(r).path),
};

/** create2(path, data, options): resolves with the created path and its Stat. */
export const CREATE2: Operation = {
  build: (ctx, path: string, data: Data, options?: CreateOptions) => buildCreate(ctx, CREATE2, path, data, options),
  decode: (r, _req, ctx): Create2Result => {
    const res = Create2Response.decode(r);
    return { path: ctx.toClient(res.path), stat: res.stat };
  },
};

/** delete(path, version). */
export const DELETE: Operation = {
  build(ctx, path: string, version = -1) {
    const req = onPath(ctx, DELETE, OpCode.delete, path);
    req.record = new DeleteRequest({ path: req.serverPath, version });
    return req;
  },
  decode: nothing,
};

/** exists(path, watch): the Stat (data watch), or null on NoNode (exist watch). */
export const EXISTS: Operation = {
  build(ctx, path: string, watch?: WatchArg) {
    const req = onPath(ctx, EXISTS, OpCode.exists, path);
    const watcher = ctx.watcherOf(watch);
    req.record = new ExistsRequest({ path: req.serverPath, watch: watcher !== null });
    return watching(req, watcher, WatchKind.Data);
  },
  decode: decodeStat,
  absent: WatchKind.Exist,
};

/** getData(path, watch): data and Stat; a data watch. */
export const GET_DATA: Operation = {
  build(ctx, path: string, watch?: WatchArg) {
    const req = onPath(ctx, GET_DATA, OpCode.getData, path);
    const watcher = ctx.watcherOf(watch);
    req.record = new GetDataRequest({ path: req.serverPath, watch: watcher !== null });
    return watching(req, watcher, WatchKind.Data);
  },
  decode: decodeNodeData,
};

/** setData(path, data, version): the new Stat. */
export const SET_DATA: Operation = {
  build(ctx, path: string, data: Data, version = -1) {
    const req = onPath(ctx, SET_DATA, OpCode.setData, path);
    req.record = new SetDataRequest({ path: req.serverPath, data: toBuffer(data), version });
    return req;
  },
  decode: decodeStat,
};

/** getACL(path): the ACL and Stat. */
export const GET_ACL: Operation = {
  build(ctx, path: string) {
    const req = onPath(ctx, GET_ACL, OpCode.getACL, path);
    req.record = new GetACLRequest({ path: req.serverPath });
    return req;
  },
  decode: (r): { acl: ACL[]; stat: Stat } => {
    const res = GetACLResponse.decode(r);
    return { acl: res.acl, stat: res.stat };
  },
};

/** setACL(path, acl, version): the new Stat. */
export const SET_ACL: Operation = {
  build(ctx, path: string, acl: readonly AclEntry[], version = -1) {
    const req = onPath(ctx, SET_ACL, OpCode.setACL, path);
    checkAcl(acl as AclEntry[], path);
    req.record = new SetACLRequest({ path: req.serverPath, acl: acl as AclEntry[], version });
    return req;
  },
  decode: decodeStat,
};

/** getChildren(path, watch): child names; a child watch. */
export const GET_CHILDREN: Operation = {
  build(ctx, path: string, watch?: WatchArg) {
    const req = onPath(ctx, GET_CHILDREN, OpCode.getChildren, path);
    const watcher = ctx.watcherOf(watch);
    req.record = new GetChildrenRequest({ path: req.serverPath, watch: watcher !== null });
    return watching(req, watcher, WatchKind.Child);
  },
  decode: (r): string[] => GetChildrenResponse.decode(r).children,
};

/** getChildren2(path, watch): child names and the Stat; a child watch. */
export const GET_CHILDREN2: Operation = {
  build(ctx, path: string, watch?: WatchArg) {
    const req = onPath(ctx, GET_CHILDREN2, OpCode.getChildren2, path);
    const watcher = ctx.watcherOf(watch);
    req.record = new GetChildren2Request({ path: req.serverPath, watch: watcher !== null });
    return watching(req, watcher, WatchKind.Child);
  },
  decode: (r): { children: string[]; stat: Stat } => {
    const res = GetChildren2Response.decode(r);
    return { children: res.children, stat: res.stat };
  },
};

/** sync(path): the path, once the server caught up with the leader. */
export const SYNC: Operation = {
  build(ctx, path: string) {
    const req = onPath(ctx, SYNC, OpCode.sync, path);
    req.record = new SyncRequest({ path: req.serverPath });
    return req;
  },
  decode: (r, _req, ctx) => ctx.toClient(SyncResponse.decode(r).path),
};

/** A multi request body, encoded from the ops when the request is written. */
function multiRecord(ctx: OpContext, ops: readonly Op[]): Record {
  const toServer = (p: string) => ctx.toServer(p);
  return {
    serialize: (w) => writeMulti(w, ops, toServer),
    deserialize() {
      throw new Error('a multi request is only encoded');
    },
  };
}

function buildMulti(ctx: OpContext, op: Operation, type: number, ops: Op[]): Request {
  checkOps(ops, type === OpCode.multiRead);
  const req = new Request(type, multiRecord(ctx, ops), undefined, undefined, op);
  req.extra = ops;
  return req;
}

/** multi(ops): one result per op; rejects with the failing op's error when one failed. */
export const MULTI: Operation = {
  build: (ctx, ops: Op[]) => buildMulti(ctx, MULTI, OpCode.multi, ops),
  decode: (r, req, ctx): OpResult[] => readMultiResponse(r, req.extra as Op[], (p) => ctx.toClient(p)),
  failure: (results, req) => multiFailure(results as OpResult[], req.extra as Op[]),
};

/** multiRead(ops): one result (or error result) per op. */
export const MULTI_READ: Operation = {
  build: (ctx, ops: Op[]) => buildMulti(ctx, MULTI_READ, OpCode.multiRead, ops),
  decode: (r, req, ctx): OpResult[] => readMultiResponse(r, req.extra as Op[], (p) => ctx.toClient(p)),
};

/** addWatch(path, watcher, mode): a persistent or persistent-recursive watch. */
export const ADD_WATCH: Operation = {
  build(ctx, path: string, watcher: Watcher, mode: AddWatchMode = AddWatchMode.PERSISTENT) {
    checkPath(path);
    if (typeof watcher !== 'function') throw new BadArgumentsError('addWatch needs a watcher function', path);
    if (mode !== AddWatchMode.PERSISTENT && mode !== AddWatchMode.PERSISTENT_RECURSIVE) {
      throw new BadArgumentsError(`unknown AddWatchMode ${mode}`, path);
    }
    const req = onPath(ctx, ADD_WATCH, OpCode.addWatch, path);
    req.record = new AddWatchRequest({ path: req.serverPath, mode });
    return watching(req, watcher, mode === AddWatchMode.PERSISTENT_RECURSIVE ? WatchKind.PersistentRecursive : WatchKind.Persistent);
  },
  decode: nothing,
};

function checkWatcherType(type: number, path: string): void {
  if (!Number.isInteger(type) || type < WatcherType.Children || type > WatcherType.PersistentRecursive) {
    throw new BadArgumentsError(`unknown WatcherType ${type}`, path);
  }
}

/** checkWatches(path, type): asks the server whether this session has such a watch; changes nothing. */
export const CHECK_WATCHES: Operation = {
  build(ctx, path: string, type: WatcherType = WatcherType.Any) {
    checkPath(path);
    checkWatcherType(type, path);
    const req = onPath(ctx, CHECK_WATCHES, OpCode.checkWatches, path);
    req.record = new CheckWatchesRequest({ path: req.serverPath, type });
    return req;
  },
  decode: nothing,
};

/** What a watch removal carries to its reply. */
interface Removal {
  watcher: Watcher | null;
  type: WatcherType;
  local: boolean;
}

/**
 * The Java client's WatchDeregistration: the server is asked first
 * (CheckWatches for one function, RemoveWatches for all of a kind); the
 * watchers are removed here and told after it agreed, or regardless with `local`.
 */
function completeRemoval(ctx: OpContext, req: Request, err: number): void {
  const removal = req.extra as Removal;
  if (err !== ErrorCode.OK && !removal.local) {
    ctx.reject(req, KeeperError.create(err, req.path));
    return;
  }
  if (!ctx.watches.contains(req.serverPath!, removal.watcher, removal.type)) {
    ctx.reject(req, new NoWatcherError(undefined, req.path));
    return;
  }
  ctx.removeLocally(req.path!, req.serverPath!, removal.watcher, removal.type);
  ctx.resolve(req, undefined);
}

function buildRemoval(ctx: OpContext, op: Operation, path: string, watcher: Watcher | null, type: WatcherType, local: boolean): Request | null {
  checkPath(path);
  checkWatcherType(type, path);
  const serverPath = ctx.toServer(path);
  if (!ctx.watches.contains(serverPath, watcher, type)) throw new NoWatcherError(undefined, path);
  if (local && !ctx.isReady) {
    ctx.removeLocally(path, serverPath, watcher, type);
    return null;
  }
  const type_ = watcher !== null ? OpCode.checkWatches : OpCode.removeWatches;
  const record = watcher !== null ? new CheckWatchesRequest({ path: serverPath, type }) : new RemoveWatchesRequest({ path: serverPath, type });
  const req = new Request(type_, record, path, serverPath, op);
  const removal: Removal = { watcher, type, local };
  req.extra = removal;
  return req;
}

const removalHooks = {
  decode: nothing,
  onReply: completeRemoval,
  // A local removal succeeds without the server (Java ignores ConnectionLoss there).
  onFail(ctx: OpContext, req: Request, err: KeeperError): void {
    if ((req.extra as Removal).local) completeRemoval(ctx, req, ErrorCode.OK);
    else ctx.reject(req, err);
  },
};

/** removeWatches(path, watcher, type, local): removes one watcher function of a kind. */
export const REMOVE_WATCHER: Operation = {
  build(ctx, path: string, watcher: Watcher, type: WatcherType = WatcherType.Any, local = false) {
    if (typeof watcher !== 'function') throw new BadArgumentsError('removeWatches needs the watcher function; use removeAllWatches', path);
    return buildRemoval(ctx, REMOVE_WATCHER, path, watcher, type, local);
  },
  ...removalHooks,
};

/** removeAllWatches(path, type, local): removes every watcher of a kind. */
export const REMOVE_ALL_WATCHES: Operation = {
  build: (ctx, path: string, type: WatcherType = WatcherType.Any, local = false) =>
    buildRemoval(ctx, REMOVE_ALL_WATCHES, path, null, type, local),
  ...removalHooks,
};

/** getEphemerals(prefixPath): this session's ephemeral paths under a prefix. */
export const GET_EPHEMERALS: Operation = {
  build(ctx, prefixPath = '/') {
    const req = onPath(ctx, GET_EPHEMERALS, OpCode.getEphemerals, prefixPath);
    req.record = new GetEphemeralsRequest({ prefixPath: req.serverPath });
    return req;
  },
  decode: (r, _req, ctx): string[] => GetEphemeralsResponse.decode(r).ephemerals.map((p) => ctx.toClient(p)),
};

/** getAllChildrenNumber(path): the number of descendants. */
export const GET_ALL_CHILDREN_NUMBER: Operation = {
  build(ctx, path: string) {
    const req = onPath(ctx, GET_ALL_CHILDREN_NUMBER, OpCode.getAllChildrenNumber, path);
    req.record = new GetAllChildrenNumberRequest({ path: req.serverPath });
    return req;
  },
  decode: (r): number => r.readInt(),
};

/** whoAmI(): the identities of this session. */
export const WHO_AM_I: Operation = {
  build: () => new Request(OpCode.whoAmI, null, undefined, undefined, WHO_AM_I),
  decode: (r): ClientInfo[] => WhoAmIResponse.decode(r).clientInfo,
};

/** getConfig(watch): /zookeeper/config, never under the chroot; a data watch. */
export const GET_CONFIG: Operation = {
  build(ctx, watch?: WatchArg) {
    const watcher = ctx.watcherOf(watch);
    const req = new Request(OpCode.getData, new GetDataRequest({ path: CONFIG_NODE, watch: watcher !== null }), CONFIG_NODE, CONFIG_NODE, GET_CONFIG);
    return watching(req, watcher, WatchKind.Data);
  },
  decode: decodeNodeData,
};

/** reconfig(options): the new configuration. */
export const RECONFIG: Operation = {
  build(_ctx, options: ReconfigOptions) {
    if (options === null || typeof options !== 'object') throw new BadArgumentsError('reconfig needs an options object');
    const record = new ReconfigRequest({
      joiningServers: (options.joining ?? null) as string,
      leavingServers: (options.leaving ?? null) as string,
      newMembers: (options.newMembers ?? null) as string,
      curConfigId: BigInt(options.fromConfig ?? -1),
    });
    return new Request(OpCode.reconfig, record, CONFIG_NODE, CONFIG_NODE, RECONFIG);
  },
  decode: decodeNodeData,
};

/** closeSession: settled by the connection's close, never awaited by a caller. */
export const CLOSE_SESSION: Operation = {
  build: () => new Request(OpCode.closeSession, null, undefined, undefined, CLOSE_SESSION),
  decode: nothing,
};
