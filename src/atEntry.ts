/**
 * The `ussl-bridge/at` entry point: the AT engine, with the `emulator:` URL scheme registered so that
 * `AtClient.open('emulator:BG96')` works without importing the root package.
 */
import { registerEmulatorScheme } from './emulatorScheme.js';

registerEmulatorScheme();

export * from './at/index.js';
