/**
 * An AtClient on a virtual module through the real serialport stack (the emulator binding), booted and quiet.
 */
import { AtClient, type AtClientOptions } from '../../src/at/AtClient.js';
import { createEmulatorBinding, VirtualModule, type VirtualModuleOptions } from '../../src/emulator/index.js';
import { SerialPortTransport } from '../../src/transport/index.js';

export interface VirtualClient {
  readonly module: VirtualModule;
  readonly at: AtClient;
  dispose(): Promise<void>;
}

/** Waits for the whole boot banner, so no boot URC arrives during the test. */
export async function virtualClient(moduleOptions: VirtualModuleOptions = {}, clientOptions: AtClientOptions = {}): Promise<VirtualClient> {
  const module = new VirtualModule(moduleOptions);
  const last = module.bootUrcs.at(-1) ?? 'RDY';
  const booted = new Promise<void>((resolve) => {
    let seen = '';
    const onOut = (c: Buffer) => {
      seen += c.toString('latin1');
      if (seen.includes(`\r\n${last}\r\n`)) {
        module.off('output', onOut);
        resolve();
      }
    };
    module.on('output', onOut);
  });
  const transport = await SerialPortTransport.open({ path: `emulator:${module.profile.name}`, binding: createEmulatorBinding(module) });
  const at = await AtClient.open(transport, clientOptions);
  await booted;
  return {
    module,
    at,
    async dispose() {
      await at.close().catch(() => {});
      module.dispose();
    },
  };
}
