/** Four-letter words and bounded polling: the testing kit's (src/testing/four-letter-words.ts, wait.ts). */
export { fourLetterWord, serverMode } from '../../src/testing/four-letter-words';
export { waitFor } from '../../src/testing/wait';
