export * from './errors';
export * from './reader';
export * from './writer';
export * from './framer';
export * from './record';
