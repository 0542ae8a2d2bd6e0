import { LogStore } from '../../storage/log-store.js';
import { describeStoreContract } from './store-contract.js';

describeStoreContract('LogStore', (options) => new LogStore(options));
