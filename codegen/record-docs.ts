/**
 * What the generated doc comments say about ZooKeeper's records, beyond what
 * the IDL says: a sentence per well-known record, and the meaning of each
 * field (Stat's zxids, times and versions...). The IDL is Apache's
 * zookeeper.jute and stays as Apache wrote it, so the words live here.
 *
 * A field's description is, first found: this record's entry in RECORDS,
 * the IDL's trailing `//` comment, the shared meaning of its name in FIELDS
 * (only for records of org.apache.zookeeper modules, where `path` or
 * `version` always mean the same), and last its name and jute type.
 */
import { FieldDef, JuteType, RecordDef, fullName } from './model';

/** Where the emitter gets the words of its doc comments (see EmitOptions.docs). */
export interface DocSource {
  /** A paragraph about the record, after the line naming it; undefined for none. */
  record(rec: RecordDef): string | undefined;
  /** One line about a field; undefined for no comment. */
  field(rec: RecordDef, field: FieldDef): string | undefined;
}

interface RecordDoc {
  summary?: string;
  fields?: { readonly [field: string]: string };
}

const STAT_FIELDS = {
  czxid: 'The zxid of the change that created the node.',
  mzxid: "The zxid of the change that last set the node's data (equals czxid until the first setData).",
  ctime: 'When the node was created, in ms since the epoch (the leader\'s clock at the create).',
  mtime: "When the node's data was last set, in ms since the epoch (equals ctime until the first setData).",
  version: "How many times the node's data was set: the version setData, delete and check compare with (-1 matches any).",
  cversion: "How many times the node's children changed (a child created or deleted).",
  aversion: "How many times the node's ACL was set: the version setACL compares with.",
  ephemeralOwner: 'The session id of the session that owns the node if it is ephemeral; 0 for any other node (persistent, container, TTL).',
  dataLength: "The length of the node's data in bytes.",
  numChildren: 'How many children the node has.',
  pzxid: "The zxid of the change that last created or deleted one of the node's children (czxid until then).",
} as const;

const RECORDS: { readonly [fullName: string]: RecordDoc } = {
  'org.apache.zookeeper.data.Id': {
    summary:
      'An identity: an auth scheme and an id in that scheme, e.g. `world:anyone`, `digest:user:<base64 sha1>`, `ip:10.0.0.0/8`, `sasl:name`, `x509:<subject DN>`, `auth:` (whoever is authenticated).',
    fields: {
      scheme: 'The auth scheme: world, auth, digest, ip, sasl, x509 or super.',
      id: 'The identity in that scheme (`anyone` for world, `user:<base64 sha1>` for digest, an address or CIDR range for ip).',
    },
  },
  'org.apache.zookeeper.data.ACL': {
    summary: 'One entry of a node\'s access control list: the permission bits granted to an identity.',
    fields: {
      perms: 'Permission bits, an OR of Perms values (READ 1, WRITE 2, CREATE 4, DELETE 8, ADMIN 16; ALL 31).',
      id: 'The identity the permissions are granted to.',
    },
  },
  'org.apache.zookeeper.data.Stat': {
    summary:
      "A node's metadata, as replies carry it (exists, getData, setData, create2, getChildren2, getACL, setACL). " +
      'zxids are the ZooKeeper transaction ids of the changes (epoch in the high 32 bits, counter in the low 32); ' +
      'times are the leader\'s clock in ms since the epoch. `JSON.stringify(stat)` writes the 64-bit fields as decimal strings.',
    fields: STAT_FIELDS,
  },
  'org.apache.zookeeper.data.StatPersisted': {
    summary:
      'A node\'s metadata as the server stores it in snapshots: Stat without dataLength and numChildren (the tree knows those), ' +
      'and with ephemeralOwner as stored, which also marks containers and TTL nodes.',
    fields: {
      ...STAT_FIELDS,
      ephemeralOwner:
        'As stored: the owning session id for an ephemeral node, 0 for a persistent one, Long.MIN_VALUE for a container, ' +
        'and 0xFF in the top byte with the TTL in ms below for a TTL node (Apache\'s EphemeralType).',
    },
  },
  'org.apache.zookeeper.data.ClientInfo': {
    summary: 'One identity the session is authenticated as (the answer of whoAmI).',
    fields: {
      authScheme: 'The auth scheme (ip, digest, sasl, x509, super...).',
      user: 'The user name, or the id in that scheme (an address for ip).',
    },
  },
  'org.apache.zookeeper.proto.ConnectRequest': {
    summary: 'The first packet on a connection: asks for a new session, or to re-attach to one.',
    fields: {
      protocolVersion: 'Always 0.',
      lastZxidSeen: 'The largest zxid the client has seen; a server behind it refuses the connection.',
      timeOut: 'The session timeout the client asks for, in ms (the server clamps it).',
      sessionId: 'The session to re-attach to, or 0 for a new one.',
      passwd: 'The session password (16 bytes) when re-attaching; zeros for a new session.',
      readOnly: 'True when the client accepts a read-only server.',
    },
  },
  'org.apache.zookeeper.proto.ConnectResponse': {
    summary: "The server's answer to a ConnectRequest.",
    fields: {
      protocolVersion: 'Always 0.',
      timeOut: 'The negotiated session timeout in ms; 0 when the session is expired or unknown.',
      sessionId: 'The session id.',
      passwd: 'The session password, needed to re-attach to the session.',
      readOnly: 'True when the server is read-only (cut off from its quorum).',
    },
  },
  'org.apache.zookeeper.proto.RequestHeader': {
    fields: { xid: 'The request number, echoed by the reply (negative xids are reserved: see Xid).', type: 'The OpCode.' },
  },
  'org.apache.zookeeper.proto.ReplyHeader': {
    fields: {
      xid: "The request's xid, or a reserved one (-1 for a watch notification, -2 for a ping).",
      zxid: 'The last zxid the server had applied when it replied.',
      err: 'The ErrorCode; 0 for success.',
    },
  },
  'org.apache.zookeeper.proto.MultiHeader': {
    fields: {
      type: "The op's OpCode, or -1 for an error result or the end marker.",
      done: 'True on the end marker after the last op.',
      err: "The op's ErrorCode in a response (-1 in requests).",
    },
  },
  'org.apache.zookeeper.proto.WatcherEvent': {
    summary: 'A watch notification (sent with xid -1).',
    fields: {
      type: 'The EventType.',
      state: 'The KeeperState of the session.',
      path: 'The node the event is about (server-side path, with the chroot).',
    },
  },
  'org.apache.zookeeper.proto.AuthPacket': {
    fields: { type: 'Always 0.', scheme: 'The auth scheme (digest, ip, ...).', auth: "The credentials, in the scheme's format (`user:password` for digest)." },
  },
  'org.apache.zookeeper.proto.CheckWatchesRequest': { fields: { type: 'The WatcherType.' } },
  'org.apache.zookeeper.proto.RemoveWatchesRequest': { fields: { type: 'The WatcherType.' } },
  'org.apache.zookeeper.server.quorum.LearnerInfo': {
    summary: "A follower's or observer's introduction to its leader (FOLLOWERINFO / OBSERVERINFO).",
    fields: {
      serverid: "The learner's server id.",
      protocolVersion: "The learner's ZAB protocol version (0x10000).",
      configVersion: 'The version of the last config the learner saw.',
    },
  },
  'org.apache.zookeeper.server.quorum.QuorumPacket': {
    summary: 'A packet between a leader and its learners (ZAB).',
    fields: {
      type: 'The QuorumPacketType (PROPOSAL, ACK, COMMIT, PING...).',
      zxid: 'The zxid the packet is about.',
      data: 'The payload, whose layout depends on the type (a logged txn for a PROPOSAL).',
      authinfo: "The client's identities (REQUEST packets).",
    },
  },
  'org.apache.zookeeper.server.quorum.QuorumAuthPacket': {
    summary: 'A SASL exchange between quorum peers (quorum.auth).',
    fields: { magic: 'A fixed magic number.', status: 'The exchange status (IN_PROGRESS, SUCCESS, ERROR).', token: 'A SASL token.' },
  },
  'org.apache.zookeeper.server.persistence.FileHeader': {
    summary: 'The header of snapshot and txn log files.',
    fields: {
      magic: "The file kind: 'ZKLG' for a txn log, 'ZKSN' for a snapshot, as a big-endian int.",
      version: 'The file format version (2).',
      dbid: 'The database id: 0 in txn logs, -1 in snapshots (as Apache writes them).',
    },
  },
  'org.apache.zookeeper.txn.TxnDigest': {
    summary: 'The digest of the whole tree after a txn (zookeeper.digest.enabled).',
    fields: { version: 'The digest version.', treeDigest: "The digest of the tree's nodes." },
  },
  'org.apache.zookeeper.txn.CloseSessionTxn': {
    fields: { paths2Delete: "The session's ephemeral nodes, deleted with it." },
  },
  'org.apache.zookeeper.txn.MultiTxn': {
    summary: 'The transactions of one multi(), applied together.',
    fields: { txns: 'The transactions, in op order.' },
  },
  'org.apache.zookeeper.txn.Txn': {
    summary: 'One transaction of a MultiTxn.',
    fields: { type: 'The OpCode of the transaction (-1 for an ErrorTxn).', data: 'The serialized transaction record.' },
  },
  'org.apache.zookeeper.txn.TxnHeader': {
    summary: 'The header of every logged transaction.',
    fields: {
      clientId: 'The session id of the client whose request this is.',
      cxid: "The client's xid of the request.",
      zxid: 'The zxid the transaction was given.',
      time: "The leader's clock when it was proposed, in ms since the epoch (the ctime/mtime it sets).",
      type: 'The OpCode of the transaction.',
    },
  },
};

const FIELDS: { readonly [field: string]: string } = {
  path: 'The node path, as the server sees it (absolute, chroot included).',
  data: "The node's data; null for none.",
  acl: 'The ACL list.',
  flags: 'The CreateMode value.',
  ttl: 'Time to live in ms (TTL create modes).',
  version: 'The expected version; -1 matches any.',
  watch: 'True to leave a watch.',
  stat: "The node's Stat.",
  children: "The children's names.",
  err: 'An ErrorCode; 0 for success.',
  zxid: 'A zxid (transaction id).',
  token: 'A SASL token.',
  parentCVersion: "The parent's cversion after the change.",
  ephemeral: 'True for an ephemeral node.',
  timeOut: 'The session timeout in ms.',
  sessionId: 'The session id.',
  relativeZxid: 'The last zxid the client saw: watches on nodes changed after it fire at once.',
  dataWatches: 'Paths with a data watch (getData) to set again.',
  existWatches: 'Paths with an exists watch to set again.',
  childWatches: 'Paths with a child watch (getChildren) to set again.',
  persistentWatches: 'Paths with a persistent watch (addWatch PERSISTENT) to set again.',
  persistentRecursiveWatches: 'Paths with a persistent recursive watch (addWatch PERSISTENT_RECURSIVE) to set again.',
  joiningServers: 'Incremental reconfig: the `server.N=...` lines to add, comma separated.',
  leavingServers: 'Incremental reconfig: the server ids to remove, comma separated.',
  newMembers: 'Bulk reconfig: the whole new membership.',
  curConfigId: 'The config version the change applies to; -1 for any.',
  totalNumber: 'The number of descendants, at every depth.',
  prefixPath: 'The path prefix the ephemerals are listed under.',
  ephemerals: "The paths of the session's ephemeral nodes.",
  clientInfo: 'The identities the session is authenticated as.',
  protocolVersion: 'The protocol version (0 for clients).',
  scheme: 'The auth scheme.',
  auth: 'The credentials, in the scheme\'s format.',
  max: 'A child count limit (the legacy get/setMaxChildren operations).',
  mode: 'The AddWatchMode.',
};

/** An IDL comment as a sentence: `created zxid` -> `Created zxid.` */
function sentence(text: string): string {
  const s = text.charAt(0).toUpperCase() + text.slice(1);
  return /[.!?]$/.test(s) ? s : `${s}.`;
}

function typeName(t: JuteType): string {
  if (t.kind === 'primitive') return t.name;
  if (t.kind === 'vector') return `vector<${typeName(t.element)}>`;
  return t.name;
}

/** The DocSource for zookeeper.jute (harmless for other IDLs: their fields get the IDL's comments or their types). */
export const ZOOKEEPER_DOCS: DocSource = {
  record(rec) {
    return RECORDS[fullName(rec)]?.summary;
  },
  field(rec, field) {
    const own = RECORDS[fullName(rec)]?.fields?.[field.name];
    if (own !== undefined) return own;
    if (field.comment) return sentence(field.comment);
    if (rec.module.startsWith('org.apache.zookeeper.') && Object.prototype.hasOwnProperty.call(FIELDS, field.name)) return FIELDS[field.name];
    return `The \`${field.name}\` field (jute \`${typeName(field.type)}\`).`;
  },
};
