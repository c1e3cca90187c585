/** The loopback TCP proxy (cut, refuse, pause, black-hole): the testing kit's (src/testing/tcp-proxy.ts). */
export { TcpProxy, resetSocket } from '../../src/testing/tcp-proxy';
