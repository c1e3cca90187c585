/**
 * The jute IDL as data: what the parser produces and the emitters consume.
 * Kept free of any target language so another emitter could reuse it.
 */

export type PrimitiveName = 'byte' | 'boolean' | 'int' | 'long' | 'float' | 'double' | 'ustring' | 'buffer';

export type JuteType =
  | { kind: 'primitive'; name: PrimitiveName }
  | { kind: 'vector'; element: JuteType }
  | { kind: 'record'; name: string; module: string };

export interface SourcePos {
  line: number;
  column: number;
}

export interface FieldDef {
  name: string;
  type: JuteType;
  pos: SourcePos;
  /** The `//` comment after the field on its line, if any (for doc comments). */
  comment?: string;
}

export interface RecordDef {
  name: string;
  module: string;
  fields: FieldDef[];
  /** The record's IDL text as written, for doc comments. */
  source: string;
  pos: SourcePos;
}

export interface ModuleDef {
  name: string;
  records: RecordDef[];
}

export interface JuteModel {
  file: string;
  modules: ModuleDef[];
}

export const PRIMITIVES: readonly PrimitiveName[] = ['byte', 'boolean', 'int', 'long', 'float', 'double', 'ustring', 'buffer'];

export function fullName(r: { module: string; name: string }): string {
  return `${r.module}.${r.name}`;
}
