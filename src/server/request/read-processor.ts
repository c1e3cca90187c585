/**
 * Answers the requests that do not change the tree (Apache's
 * FinalRequestProcessor read branch): reads with their ACL checks and watch
 * registration, watch management, sync, ping, whoAmI and multiRead.
 */
import type { Record as JuteRecord } from '../../jute/record';
import { AddWatchMode, ErrorCode, OpCode, Perms, WatcherType } from '../../proto/constants';
import { AddWatchRequest, CheckWatchesRequest, ErrorResponse, ExistsRequest, ExistsResponse, GetACLRequest, GetACLResponse, GetAllChildrenNumberRequest, GetAllChildrenNumberResponse, GetChildren2Request, GetChildren2Response, GetChildrenRequest, GetChildrenResponse, GetDataRequest, GetDataResponse, GetEphemeralsRequest, GetEphemeralsResponse, RemoveWatchesRequest, SetWatches, SetWatches2, SyncRequest, SyncResponse, WhoAmIResponse } from '../../proto/generated/proto';
import { ClientInfo, Id, ACL } from '../../proto/generated/data';
import { checkAcl, whoAmIUser } from '../tree/acl-check';
import type { DataTree } from '../tree/data-tree';
import { KeeperCodeError, badArguments, noNode } from '../tree/keeper-error';
import { WatcherMode, type Watcher } from '../tree/watch-manager';
import { MultiResponse, type MultiOp, type OpResult } from './request-records';

export interface ReadCaller extends Watcher {
  readonly sessionId: bigint;
  readonly authInfo: readonly Id[];
}

export interface ReadResult {
  err: number;
  body: JuteRecord | null;
}

/** Runs one read-side request; a KeeperCodeError becomes `err` with no body. */
export function processRead(tree: DataTree, caller: ReadCaller, type: number, record: JuteRecord | MultiOp[] | null): ReadResult {
  try {
    return { err: 0, body: readBody(tree, caller, type, record) };
  } catch (e) {
    if (e instanceof KeeperCodeError) return { err: e.code, body: null };
    throw e;
  }
}

function readBody(tree: DataTree, caller: ReadCaller, type: number, record: JuteRecord | MultiOp[] | null): JuteRecord | null {
  switch (type) {
    case OpCode.ping:
    case OpCode.whoAmI:
      break;
    default:
      if (record === null) throw new KeeperCodeError(ErrorCode.MARSHALLINGERROR);
  }
  switch (type) {
    case OpCode.ping:
      return null;
    case OpCode.exists: {
      const req = record as ExistsRequest;
      if (req.path.includes('\0')) throw badArguments(req.path);
      return new ExistsResponse({ stat: tree.statNode(req.path, req.watch ? caller : undefined) });
    }
    case OpCode.getData:
      return getData(tree, caller, record as GetDataRequest);
    case OpCode.getChildren:
      return new GetChildrenResponse({ children: getChildren(tree, caller, record as GetChildrenRequest).children });
    case OpCode.getChildren2: {
      const res = getChildren(tree, caller, record as GetChildren2Request);
      return new GetChildren2Response({ children: res.children, stat: res.stat });
    }
    case OpCode.getACL: {
      const path = (record as GetACLRequest).path;
      const node = tree.getNode(path);
      if (!node) throw noNode(path);
      const nodeAcl = tree.aclForNode(node);
      checkAcl(nodeAcl, Perms.READ | Perms.ADMIN, caller.authInfo);
      const { acl, stat } = tree.getACL(path);
      try {
        checkAcl(nodeAcl, Perms.ADMIN, caller.authInfo);
        return new GetACLResponse({ acl, stat });
      } catch (e) {
        if (!(e instanceof KeeperCodeError)) throw e;
        // Without ADMIN a reader sees digest ids with the password hash masked, as Apache does.
        const masked = acl.map((a) =>
          a.id.scheme === 'digest' ? new ACL({ perms: a.perms, id: new Id({ scheme: a.id.scheme, id: a.id.id.replace(/:.*/, ':x') }) }) : a,
        );
        return new GetACLResponse({ acl: masked, stat });
      }
    }
    case OpCode.getAllChildrenNumber: {
      const path = (record as GetAllChildrenNumberRequest).path;
      const node = tree.getNode(path);
      if (!node) throw noNode(path);
      checkAcl(tree.aclForNode(node), Perms.READ, caller.authInfo);
      return new GetAllChildrenNumberResponse({ totalNumber: tree.getAllChildrenNumber(path) });
    }
    case OpCode.getEphemerals: {
      const prefix = (record as GetEphemeralsRequest).prefixPath;
      const all = [...tree.getEphemerals(caller.sessionId)];
      const trimmed = prefix.trim();
      const ephemerals = trimmed === '' || trimmed === '/' ? all : all.filter((p) => p.startsWith(prefix));
      return new GetEphemeralsResponse({ ephemerals });
    }
    case OpCode.sync:
      return new SyncResponse({ path: (record as SyncRequest).path });
    case OpCode.setWatches: {
      const sw = record as SetWatches;
      tree.setWatches(sw.relativeZxid, { data: sw.dataWatches, exist: sw.existWatches, child: sw.childWatches }, caller);
      return null;
    }
    case OpCode.setWatches2: {
      const sw = record as SetWatches2;
      tree.setWatches(
        sw.relativeZxid,
        { data: sw.dataWatches, exist: sw.existWatches, child: sw.childWatches, persistent: sw.persistentWatches, persistentRecursive: sw.persistentRecursiveWatches },
        caller,
      );
      return null;
    }
    case OpCode.checkWatches: {
      const req = record as CheckWatchesRequest;
      if (!watchOp(tree, caller, req.path, req.type, false)) throw new KeeperCodeError(ErrorCode.NOWATCHER, req.path);
      return null;
    }
    case OpCode.removeWatches: {
      const req = record as RemoveWatchesRequest;
      if (!watchOp(tree, caller, req.path, req.type, true)) throw new KeeperCodeError(ErrorCode.NOWATCHER, req.path);
      return null;
    }
    case OpCode.addWatch: {
      const req = record as AddWatchRequest;
      if (req.mode !== AddWatchMode.PERSISTENT && req.mode !== AddWatchMode.PERSISTENT_RECURSIVE) throw badArguments(req.path);
      tree.addWatch(req.path, req.mode, caller);
      return new ErrorResponse({ err: 0 });
    }
    case OpCode.whoAmI:
      return new WhoAmIResponse({ clientInfo: caller.authInfo.map((id) => new ClientInfo({ authScheme: id.scheme, user: whoAmIUser(id) })) });
    case OpCode.multiRead:
      return multiRead(tree, caller, record as MultiOp[]);
    default:
      throw new KeeperCodeError(ErrorCode.UNIMPLEMENTED);
  }
}

function getData(tree: DataTree, caller: ReadCaller, req: GetDataRequest): GetDataResponse {
  const node = tree.getNode(req.path);
  if (!node) throw noNode(req.path);
  checkAcl(tree.aclForNode(node), Perms.READ, caller.authInfo);
  const { data, stat } = tree.getData(req.path, req.watch ? caller : undefined);
  return new GetDataResponse({ data, stat });
}

function getChildren(tree: DataTree, caller: ReadCaller, req: GetChildrenRequest | GetChildren2Request): ReturnType<DataTree['getChildren']> {
  const node = tree.getNode(req.path);
  if (!node) throw noNode(req.path);
  checkAcl(tree.aclForNode(node), Perms.READ, caller.authInfo);
  return tree.getChildren(req.path, req.watch ? caller : undefined);
}

function multiRead(tree: DataTree, caller: ReadCaller, ops: MultiOp[]): MultiResponse {
  const results: OpResult[] = [];
  for (const op of ops) {
    try {
      if (op.type === OpCode.getChildren) {
        results.push({ type: OpCode.getChildren, children: getChildren(tree, caller, op.record as GetChildrenRequest).children });
      } else if (op.type === OpCode.getData) {
        const r = getData(tree, caller, op.record as GetDataRequest);
        results.push({ type: OpCode.getData, data: r.data, stat: r.stat });
      } else {
        throw new KeeperCodeError(ErrorCode.MARSHALLINGERROR);
      }
    } catch (e) {
      if (!(e instanceof KeeperCodeError)) throw e;
      if (e.code === ErrorCode.MARSHALLINGERROR) throw e;
      results.push({ type: OpCode.error, err: e.code });
    }
  }
  return new MultiResponse(results);
}

/** checkWatches / removeWatches by WatcherType (Data/Children/Any as in 3.8, Persistent/PersistentRecursive as in 3.9). */
function watchOp(tree: DataTree, w: Watcher, path: string, type: number, remove: boolean): boolean {
  const op = (mgr: DataTree['dataWatches'], mode?: WatcherMode): boolean => (remove ? mgr.removeWatcher(path, w, mode) : mgr.containsWatcher(path, w, mode));
  switch (type) {
    case WatcherType.Children:
      return op(tree.childWatches);
    case WatcherType.Data:
      return op(tree.dataWatches);
    case WatcherType.Any: {
      const a = op(tree.childWatches);
      const b = op(tree.dataWatches);
      return a || b;
    }
    case WatcherType.Persistent: {
      const a = op(tree.childWatches, WatcherMode.PERSISTENT);
      const b = op(tree.dataWatches, WatcherMode.PERSISTENT);
      return a || b;
    }
    case WatcherType.PersistentRecursive: {
      const a = op(tree.childWatches, WatcherMode.PERSISTENT_RECURSIVE);
      const b = op(tree.dataWatches, WatcherMode.PERSISTENT_RECURSIVE);
      return a || b;
    }
    default:
      throw badArguments(path);
  }
}
