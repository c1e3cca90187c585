/**
 * The object a watcher and a 'state' listener receive. Its fields are the
 * wire's numbers (`type`, `state`) and the client path; printed with
 * console.log, util.inspect, String() or JSON.stringify it shows the names
 * too, so a log says `NodeDataChanged` rather than `3`.
 */
import { inspect } from 'util';
import { EventType, KeeperState } from '../proto/constants';
import type { WatchedEvent } from './watch-manager';

/** A WatchedEvent that prints its names. */
export class NamedWatchedEvent implements WatchedEvent {
  constructor(
    readonly type: EventType,
    readonly state: KeeperState,
    readonly path: string | null,
  ) {}

  /** The name of `type` (`NodeDataChanged`), or `Unknown(n)` for a number this client does not know. */
  get typeName(): string {
    return EventType[this.type] ?? `Unknown(${this.type})`;
  }

  /** The name of `state` (`SyncConnected`), or `Unknown(n)`. */
  get stateName(): string {
    return KeeperState[this.state] ?? `Unknown(${this.state})`;
  }

  /** `WatchedEvent NodeDataChanged /a (SyncConnected)`. */
  toString(): string {
    return `WatchedEvent ${this.typeName}${this.path === null ? '' : ` ${this.path}`} (${this.stateName})`;
  }

  /** The fields with their names: `{ type: 3, typeName: 'NodeDataChanged', state: 3, stateName: 'SyncConnected', path: '/a' }`. */
  toJSON(): object {
    return { type: this.type, typeName: this.typeName, state: this.state, stateName: this.stateName, path: this.path };
  }

  [inspect.custom](): string {
    return `WatchedEvent { type: ${this.typeName} (${this.type}), state: ${this.stateName} (${this.state}), path: ${this.path === null ? 'null' : `'${this.path}'`} }`;
  }
}

/** The name of a KeeperState value (`stateName(3) === 'SyncConnected'`), `Unknown(n)` when it has none. */
export function stateName(state: number): string {
  return KeeperState[state] ?? `Unknown(${state})`;
}

/** The name of an EventType value (`eventTypeName(3) === 'NodeDataChanged'`), `Unknown(n)` when it has none. */
export function eventTypeName(type: number): string {
  return EventType[type] ?? `Unknown(${type})`;
}
