/** Free loopback ports: the testing kit's (src/testing/ports.ts), shared so both hand out distinct ports. */
export { freePort, freePorts } from '../../src/testing/ports';
