/**
 * Ad hoc, not part of `npm run bench`: one transfer through the API for a CPU profile of the host side, e.g.
 * `node --import tsx --cpu-prof bench/support/profileSend.ts up child 8` (direction `up`, `down` or `push`; `child`
 * runs the module in a child process over TCP, `local` in this process; the last argument is MiB, default 4).
 */
import { VirtualModule } from '../../src/emulator/index.js';
import { MiB, Modem, openTlsSocket, PEER, startHost, timedDown, timedUp } from './harness.js';

const which = process.argv[2] ?? 'up';
const local = process.argv[3] === 'local';
const mib = Number(process.argv[4] ?? 4);
const host = await startHost({ count: 1 });
const module = local ? new VirtualModule({ model: 'EC25', hosts: { [PEER]: `127.0.0.1:${host.peerPort}` } }) : undefined;
const modem = await Modem.open(module ?? host.urls[0]!);
const sock = await openTlsSocket(modem, which === 'push' ? 'push' : 'buffer');
const t = which === 'up' ? await timedUp(sock, mib * MiB) : await timedDown(sock, mib * MiB);
console.log(which, local ? 'local' : 'child', (mib / (t / 1000)).toFixed(2), 'MiB/s');
await sock.close();
await modem.close();
module?.dispose();
await host.stop();
