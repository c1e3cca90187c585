/**
 * Runs examples/testing/jest.test.ts (the testing kit's jest example) under
 * the repository's jest: its hooks and test register here, so the example
 * cannot rot. (jest's roots are test/, so the example is not collected twice.)
 */
import '../../examples/testing/jest.test';
