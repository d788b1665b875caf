/**
 * Composition: makes `openTransport('emulator:EC25?baud=115200')` open a fresh virtual module through the emulator's
 * serialport binding. It lives at the root because it joins two layers that do not know each other.
 */
import { QuectelError } from './errors.js';
import { createEmulatorBinding, MODEL_NAMES, VirtualModule, type ModelName } from './emulator/index.js';
import { registerTransportScheme, SerialPortTransport, type Transport, type TransportSchemeOpener } from './transport/index.js';

const isModel = (name: string): name is ModelName => (MODEL_NAMES as readonly string[]).includes(name);

/**
 * Registers the `emulator:` scheme. `emulator:<MODEL>` boots a new virtual module of that model; `?baud=<rate>`
 * paces it at that UART speed; `?hosts=<name>=<ip>[:<port>],…` is its `hosts` table
 * (`emulator:EC25?hosts=myssl.com=127.0.0.1:8443`). Closing the transport powers the module off (disposes it).
 * @returns the function that removes the registration.
 */
export function registerEmulatorScheme(): () => void {
  return registerTransportScheme('emulator', openEmulator);
}

/** One opener for the process, so that registering twice (root and `ussl-bridge/at`) is harmless. */
const openEmulator: TransportSchemeOpener = async (parsed, options): Promise<Transport> => {
  const model = parsed.rest.toUpperCase();
  if (!isModel(model)) {
    throw new QuectelError('EMULATOR_BAD_MODEL', `unknown model "${parsed.rest}" in ${parsed.url}; known: ${MODEL_NAMES.join(', ')}`);
    }
    const baud = parsed.params.get('baud');
    const pace = baud === undefined ? undefined : Number(baud);
    if (pace !== undefined && (!Number.isSafeInteger(pace) || pace <= 0)) {
      throw new QuectelError('TRANSPORT_BAD_OPTION', `baud must be a positive integer, got "${baud}"`, { option: 'baud' });
    }
    const hosts = parseHosts(parsed.params.get('hosts'), parsed.url);
    const module = new VirtualModule({ model, hosts, ...(pace ? { baud: pace } : {}) });
    const transport = await SerialPortTransport.open({
      path: parsed.url, url: parsed.url, binding: createEmulatorBinding(module),
      ...(options.baudRate ?? pace ? { baudRate: options.baudRate ?? pace } : {}),
    });
    transport.once('close', () => module.dispose());
    return transport;
};

/** `name=ip[:port],name=ip[:port]` → the virtual module's `hosts` table. */
function parseHosts(text: string | undefined, url: string): Record<string, string> {
  const hosts: Record<string, string> = {};
  for (const entry of (text ?? '').split(',').filter((e) => e !== '')) {
    const m = /^([A-Za-z0-9.-]+)=(\d{1,3}(?:\.\d{1,3}){3}(?::\d{1,5})?)$/.exec(entry);
    if (!m) throw new QuectelError('TRANSPORT_BAD_OPTION', `hosts entry "${entry}" in ${url} is not NAME=IP or NAME=IP:PORT`, { option: 'hosts' });
    hosts[m[1]!] = m[2]!;
  }
  return hosts;
}
