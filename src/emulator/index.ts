/**
 * `ussl-bridge/emulator`: the virtual Quectel module, its serialport binding and its models.
 */
export { VirtualModule } from './VirtualModule.js';
export type { VirtualModuleOptions } from './VirtualModule.js';
export type { ModuleTraceEvent, VirtualModuleEvents } from './moduleEvents.js';
export { createEmulatorBinding, EmulatorPort } from './EmulatorBinding.js';
export { FaultState } from './faults.js';
export { LATENCY_PROFILE_NAMES, LATENCY_PROFILES, NO_LATENCY } from './latencyProfiles.js';
export type { LatencyProfileName } from './latencyProfiles.js';
export type { CommandMatch, UploadFault } from './faults.js';
export { MODEL_NAMES, MODELS } from './models.js';
export type { ModelName, ModelProfile, OpenFailure, SslProfile } from './models.js';
export type { AtPortName, BootTiming, LatencyProfile, SendPath } from './ModuleCore.js';
export { serveTcp, servePty } from './serve.js';
export type { ModuleServer, ServeTcpOptions } from './serve.js';
export { RawAtSession, linkOf } from './RawAtSession.js';
export type { ByteLink, Reply } from './RawAtSession.js';
export { makeDemoPki } from './demoPki.js';
export type { DemoCredential, DemoPki } from './demoPki.js';
export { startDemoServers } from './demoServers.js';
export type { DemoServer, DemoServers } from './demoServers.js';
