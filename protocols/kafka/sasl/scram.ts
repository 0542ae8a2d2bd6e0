/** SCRAM lives in the core's user model now (src/core/auth/scram.ts); re-exported for the Kafka adapter's tests. */
export { ScramExchange, makeScramCredential, scramAlgorithm, type ScramAlgorithm, type ScramCredential } from '../../../src/core/index.js';
