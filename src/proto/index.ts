export * from './generated';
export * from './constants';
export * from './ids';
export * from "./path";
