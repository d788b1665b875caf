/**
 * `ussl-bridge/at`: the AT engine on its own, for programs and tests that speak AT themselves.
 */
export { AtClient } from './AtClient.js';
export type { AtClientOptions, SendOptions } from './AtClient.js';
export { AtEngine } from './AtEngine.js';
export type { AtEngineEvents, AtEngineOptions, AtTraceEvent } from './AtEngine.js';
export type { AtCommand, AtReply } from './AtCommand.js';
export { DataChannel } from './DataChannel.js';
export type { DataModeEnd } from './DataChannel.js';
export { AT_TIMEOUTS, BOOT_URCS, commandDefaults, commandShape, DIALECT, timeoutFor, URC_PREFIXES } from './dialect.js';
export { AtFramer, DEFAULT_MAX_DOWNLOAD_LENGTH, DEFAULT_MAX_LINE_LENGTH } from './AtFramer.js';
export type { AtFrame, FramerHooks, FramerMode, FramerOptions } from './AtFramer.js';
export { classifyLine, finalKind, RESET_LINES } from './classifyLine.js';
export { DEFAULT_DONE_TIMEOUT_MS, ScriptedPort } from './ScriptedPort.js';
export type { ScriptBytes, ScriptChunking, ScriptedPortOptions, ScriptReply, ScriptReplyPart, ScriptStep } from './ScriptedPort.js';
