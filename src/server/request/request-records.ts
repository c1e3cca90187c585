/**
 * Which record a request body holds for each opcode, the multi request and
 * response encodings (Apache's MultiOperationRecord / MultiResponse, which are
 * hand-written in Apache too, not jute-generated), and the opcode classes the
 * pipeline routes on.
 */
import { JuteReader } from '../../jute/reader';
import { JuteWriter } from '../../jute/writer';
import { MalformedInputError, TruncatedInputError } from '../../jute/errors';
import { type Record as JuteRecord } from '../../jute/record';
import { AddWatchRequest, CheckVersionRequest, CheckWatchesRequest, Create2Response, CreateRequest, CreateResponse, CreateTTLRequest, DeleteRequest, ErrorResponse, ExistsRequest, GetACLRequest, GetAllChildrenNumberRequest, GetChildren2Request, GetChildrenRequest, GetChildrenResponse, GetDataRequest, GetDataResponse, GetEphemeralsRequest, GetSASLRequest, MultiHeader, ReconfigRequest, RemoveWatchesRequest, SetACLRequest, SetDataRequest, SetDataResponse, SetWatches, SetWatches2, SyncRequest } from '../../proto/generated/proto';
import { OpCode, isContainer, isTTL } from '../../proto/constants';
import { Stat } from '../../proto/generated/data';

/** Opcodes that become a txn (Apache routes these through the log). */
const WRITE_OPS = new Set<number>([
  OpCode.create,
  OpCode.create2,
  OpCode.createTTL,
  OpCode.createContainer,
  OpCode.delete,
  OpCode.deleteContainer,
  OpCode.setData,
  OpCode.setACL,
  OpCode.check,
  OpCode.multi,
  OpCode.reconfig,
  OpCode.closeSession,
  OpCode.createSession,
]);

/**
 * Request.isValid: the opcodes a client may send; anything else gets
 * UNIMPLEMENTED. Opcode 0 (notification) is not one of them: Apache answers
 * a client that sends it like any unknown opcode.
 */
const VALID_OPS = new Set<number>([
  ...WRITE_OPS,
  OpCode.exists,
  OpCode.getACL,
  OpCode.getChildren,
  OpCode.getAllChildrenNumber,
  OpCode.getChildren2,
  OpCode.getData,
  OpCode.getEphemerals,
  OpCode.multiRead,
  OpCode.ping,
  OpCode.setWatches,
  OpCode.setWatches2,
  OpCode.sync,
  OpCode.checkWatches,
  OpCode.removeWatches,
  OpCode.addWatch,
  OpCode.whoAmI,
]);

export function isWriteOp(type: number): boolean {
  return WRITE_OPS.has(type);
}

export function isValidOp(type: number): boolean {
  return VALID_OPS.has(type);
}

type RecordCtor = new () => JuteRecord;

const REQUEST_RECORDS = new Map<number, RecordCtor>([
  [OpCode.create, CreateRequest],
  [OpCode.create2, CreateRequest],
  [OpCode.createContainer, CreateRequest],
  [OpCode.createTTL, CreateTTLRequest],
  [OpCode.delete, DeleteRequest],
  [OpCode.deleteContainer, DeleteRequest],
  [OpCode.setData, SetDataRequest],
  [OpCode.setACL, SetACLRequest],
  [OpCode.check, CheckVersionRequest],
  [OpCode.reconfig, ReconfigRequest],
  [OpCode.exists, ExistsRequest],
  [OpCode.getData, GetDataRequest],
  [OpCode.getACL, GetACLRequest],
  [OpCode.getChildren, GetChildrenRequest],
  [OpCode.getChildren2, GetChildren2Request],
  [OpCode.getAllChildrenNumber, GetAllChildrenNumberRequest],
  [OpCode.getEphemerals, GetEphemeralsRequest],
  [OpCode.sync, SyncRequest],
  [OpCode.checkWatches, CheckWatchesRequest],
  [OpCode.removeWatches, RemoveWatchesRequest],
  [OpCode.addWatch, AddWatchRequest],
  [OpCode.setWatches, SetWatches],
  [OpCode.setWatches2, SetWatches2],
  [OpCode.sasl, GetSASLRequest],
]);

/**
 * The reader for request bodies. Apache reads them with BinaryInputArchive,
 * whose vectors take -1 as null and any other negative count as an empty
 * vector (its index is "done" at once), and the request then goes on: e.g. a
 * create whose ACL count is -5 reads as an empty ACL and is answered
 * InvalidACL, not MarshallingError. Only request decoding is this lenient;
 * src/jute's JuteReader stays strict for replies, the log and snapshots.
 */
export class RequestBodyReader extends JuteReader {
  /** Vectors read as null (count -1); the generated records turn them into empty arrays. */
  nullVectors = 0;

  override readVectorLength(): number {
    const n = this.readInt();
    if (n < -1) return 0;
    if (n === -1) this.nullVectors++;
    if (n > this.remaining) {
      throw new TruncatedInputError(`vector of ${n} items cannot fit in ${this.remaining} bytes at offset ${this.offset - 4}`);
    }
    return n;
  }
}

export interface MultiOp {
  type: number;
  record: JuteRecord;
}

/** Decodes a request body for `type`; throws a JuteError on bytes that do not fit. */
export function decodeRequest(type: number, body: Buffer): JuteRecord | MultiOp[] | null {
  if (type === OpCode.multi || type === OpCode.multiRead) return decodeMulti(body);
  const Ctor = REQUEST_RECORDS.get(type);
  if (!Ctor) return null;
  const r = new RequestBodyReader(body);
  const record = new Ctor().deserialize(r);
  // Apache's DataTree.setWatches walks every list it was given: a null one fails (MarshallingError).
  if ((type === OpCode.setWatches || type === OpCode.setWatches2) && r.nullVectors > 0) {
    throw new MalformedInputError(`${type === OpCode.setWatches ? 'setWatches' : 'setWatches2'} with a null watch list`);
  }
  return record;
}

/** MultiOperationRecord: (MultiHeader op)* ending with a header whose done flag is set. */
export function decodeMulti(body: Buffer): MultiOp[] {
  const r = new RequestBodyReader(body);
  const ops: MultiOp[] = [];
  for (;;) {
    const h = new MultiHeader().deserialize(r);
    if (h.done) return ops;
    const Ctor = multiOpRecord(h.type);
    if (!Ctor) throw new MalformedInputError(`invalid type of op in multi: ${h.type}`);
    const record = new Ctor().deserialize(r);
    ops.push({ type: normalizedOpType(h.type, record), record });
  }
}

/**
 * Apache rebuilds each multi op through its Op factories, which pick the
 * opcode from the create mode: create2 becomes create (so its result has no
 * Stat), a container mode becomes createContainer, deleteContainer becomes delete.
 */
function normalizedOpType(type: number, record: JuteRecord): number {
  switch (type) {
    case OpCode.create:
    case OpCode.create2:
    case OpCode.createContainer:
    case OpCode.createTTL: {
      const flags = (record as CreateRequest).flags;
      if (isTTL(flags)) return OpCode.createTTL;
      if (isContainer(flags)) return OpCode.createContainer;
      return OpCode.create;
    }
    case OpCode.deleteContainer:
      return OpCode.delete;
    default:
      return type;
  }
}

function multiOpRecord(type: number): RecordCtor | undefined {
  switch (type) {
    case OpCode.create:
    case OpCode.create2:
    case OpCode.createContainer:
      return CreateRequest;
    case OpCode.createTTL:
      return CreateTTLRequest;
    case OpCode.delete:
    case OpCode.deleteContainer:
      return DeleteRequest;
    case OpCode.setData:
      return SetDataRequest;
    case OpCode.check:
      return CheckVersionRequest;
    case OpCode.getChildren:
      return GetChildrenRequest;
    case OpCode.getData:
      return GetDataRequest;
    default:
      return undefined;
  }
}

export function encodeMultiRequest(ops: readonly MultiOp[]): Buffer {
  const w = new JuteWriter();
  for (const op of ops) {
    new MultiHeader({ type: op.type, done: false, err: -1 }).serialize(w);
    op.record.serialize(w);
  }
  new MultiHeader({ type: -1, done: true, err: -1 }).serialize(w);
  return w.toBuffer();
}

/** One entry of a MultiResponse (Apache's OpResult subclasses). */
export type OpResult =
  | { type: typeof OpCode.create; path: string }
  | { type: typeof OpCode.create2; path: string; stat: Stat }
  | { type: typeof OpCode.delete }
  | { type: typeof OpCode.check }
  | { type: typeof OpCode.setData; stat: Stat }
  | { type: typeof OpCode.getChildren; children: string[] }
  | { type: typeof OpCode.getData; data: Buffer | null; stat: Stat }
  | { type: typeof OpCode.error; err: number };

/** MultiResponse.serialize: a header per result (err only on ErrorResult), its body, then {-1, true, -1}. */
export class MultiResponse implements JuteRecord {
  constructor(readonly results: OpResult[] = []) {}

  serialize(w: JuteWriter): void {
    for (const res of this.results) {
      const err = res.type === OpCode.error ? res.err : 0;
      new MultiHeader({ type: res.type, done: false, err }).serialize(w);
      switch (res.type) {
        case OpCode.create:
          new CreateResponse({ path: res.path }).serialize(w);
          break;
        case OpCode.create2:
          new Create2Response({ path: res.path, stat: res.stat }).serialize(w);
          break;
        case OpCode.setData:
          new SetDataResponse({ stat: res.stat }).serialize(w);
          break;
        case OpCode.getChildren:
          new GetChildrenResponse({ children: res.children }).serialize(w);
          break;
        case OpCode.getData:
          new GetDataResponse({ data: res.data, stat: res.stat }).serialize(w);
          break;
        case OpCode.error:
          new ErrorResponse({ err: res.err }).serialize(w);
          break;
        default:
          break;
      }
    }
    new MultiHeader({ type: -1, done: true, err: -1 }).serialize(w);
  }

  deserialize(r: JuteReader): this {
    for (;;) {
      const h = new MultiHeader().deserialize(r);
      if (h.done) return this;
      switch (h.type) {
        case OpCode.create:
          this.results.push({ type: OpCode.create, path: new CreateResponse().deserialize(r).path });
          break;
        case OpCode.create2: {
          const c = new Create2Response().deserialize(r);
          this.results.push({ type: OpCode.create2, path: c.path, stat: c.stat });
          break;
        }
        case OpCode.delete:
          this.results.push({ type: OpCode.delete });
          break;
        case OpCode.check:
          this.results.push({ type: OpCode.check });
          break;
        case OpCode.setData:
          this.results.push({ type: OpCode.setData, stat: new SetDataResponse().deserialize(r).stat });
          break;
        case OpCode.getChildren:
          this.results.push({ type: OpCode.getChildren, children: new GetChildrenResponse().deserialize(r).children });
          break;
        case OpCode.getData: {
          const g = new GetDataResponse().deserialize(r);
          this.results.push({ type: OpCode.getData, data: g.data, stat: g.stat });
          break;
        }
        case OpCode.error:
          this.results.push({ type: OpCode.error, err: new ErrorResponse().deserialize(r).err });
          break;
        default:
          throw new MalformedInputError(`invalid type in multi response: ${h.type}`);
      }
    }
  }
}

/** The path a request names, for logging and multi rollback bookkeeping. */
export function pathOf(record: JuteRecord): string | undefined {
  const p = (record as { path?: unknown }).path;
  return typeof p === 'string' ? p : undefined;
}
