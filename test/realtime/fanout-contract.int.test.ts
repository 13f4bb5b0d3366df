import { LocalBus, LocalFanout } from '../../src/realtime/index.js';
import { fanoutContract } from '../support/realtime-fanout-contract.js';

fanoutContract('local (in-process bus)', async (n) => {
  const bus = new LocalBus();
  return Array.from({ length: n }, () => new LocalFanout(bus));
});
