/** Temp directories removed at exit (ZK_TEST_KEEP_DIRS=1 keeps them): the testing kit's (src/testing/temp-dirs.ts). */
export { keepDirs, makeTempDir, removeTempDir, tailFile } from '../../src/testing/temp-dirs';
