/**
 * The file commands of the BG96 FILE AT Commands Manual (quectel-at.md §6): upload, list, delete, storage
 * information and download, on the module's UFS.
 */
import { formatChecksum, quectelChecksum } from '../../protocol/checksum.js';
import type { CommandTable } from '../ModuleCore.js';
import { intArg, strArg } from '../parseCommandLine.js';
import { UfsStore } from '../UfsStore.js';

const DEFAULT_UPLOAD_SIZE = 10_240;
const DEFAULT_UPLOAD_TIMEOUT_S = 5;
const ACK_EVERY = 1024;

const optInt = (args: Parameters<typeof intArg>[0], i: number, min: number, max: number, def: number) =>
  args.length > i ? intArg(args, i, min, max) : def;

export const FILE_TABLE: CommandTable = {
  '+QFUPL': async (cmd, io, core) => {
    if (cmd.form === 'test') {
      io.info(`+QFUPL: <filename>,(1-${core.ufs.freeBytes}),(1-65535),(0,1)`);
      return io.ok();
    }
    const name = strArg(cmd.args, 0);
    const size = optInt(cmd.args, 1, 1, Number.MAX_SAFE_INTEGER, DEFAULT_UPLOAD_SIZE);
    const timeout = optInt(cmd.args, 2, 1, 65_535, DEFAULT_UPLOAD_TIMEOUT_S);
    const ack = optInt(cmd.args, 3, 0, 1, 0);
    if (cmd.form !== 'set' || name === undefined || size === undefined || timeout === undefined ||
      ack === undefined || cmd.args.length > 4) return io.cme(425);
    const key = UfsStore.key(name);
    if (key === undefined) return io.cme(406);
    const fault = core.faults.takeUploadFault(cmd.raw);
    if (core.ufs.has(key) || fault === 'exists') return io.cme(407);
    if (size > core.ufs.freeBytes || fault === 'full') return io.cme(403);
    io.result('CONNECT');
    const got = await core.readPayload({
      kind: 'upload',
      // Bytes lost on the line: the module counts fewer than were sent, so it waits for the rest until its timeout.
      length: fault === 'short' ? size + 16 : size,
      gapTimeoutMs: timeout * 1000,
      // ACK mode: an `A` after each 1 KiB (§6.1; its framing is uncertain, a bare `A` is what the manual shows).
      ...(ack === 1 ? { ackEvery: ACK_EVERY, onAck: () => io.bytes(Buffer.from('A')) } : {}),
    });
    if (fault === 'corrupt' && got.data.length > 0) got.data[got.data.length >> 1]! ^= 0x20;
    // Whatever arrived is kept, even on a timeout (S3; T16 stored the partial file); nothing at all makes no file.
    if (got.data.length > 0 || got.end === 'complete') core.ufs.set(key, got.data);
    // T01 (BG96), T02 (EC25): `+QFUPL:` follows the last payload byte with no CR LF in front (§6.1).
    io.lineAfterData(`+QFUPL: ${got.data.length},${formatChecksum(quectelChecksum(got.data))}`);
    if (got.end === 'complete') io.ok();
    else io.cme(421);
  },

  '+QFDWL': (cmd, io, core) => {
    if (cmd.form === 'test') {
      io.info('+QFDWL: <filename>');
      return io.ok();
    }
    const name = strArg(cmd.args, 0);
    if (cmd.form !== 'set' || name === undefined || cmd.args.length !== 1) return io.cme(425);
    const key = UfsStore.key(name);
    if (key === undefined) return io.cme(406);
    const data = core.ufs.get(key);
    if (!data) return io.cme(405);
    io.result('CONNECT');
    io.bytes(data);
    // T03: the size line starts on a new line even when the file has no trailing newline.
    io.info(`+QFDWL: ${data.length},${formatChecksum(quectelChecksum(data))}`);
    io.ok();
  },

  '+QFLST': (cmd, io, core) => {
    if (cmd.form === 'test') return io.ok();
    let pattern = '*';
    if (cmd.form === 'set') {
      const p = strArg(cmd.args, 0);
      if (p === undefined || cmd.args.length !== 1) return io.cme(425);
      pattern = p;
    } else if (cmd.form !== 'exec') return io.cme(425);
    const ram = pattern.startsWith('RAM:');
    const wanted = pattern === '*' || pattern === 'UFS:*' || pattern === 'RAM:*' ? undefined : UfsStore.key(pattern);
    if (wanted === undefined && !pattern.endsWith('*')) return io.cme(406);
    // Directory entries come first where the firmware lists them (BG96 `+QFLST: "security/",2`, T01).
    if (!ram && wanted === undefined) for (const [dir, size] of core.profile.fileListDirs) io.info(`+QFLST: "${dir}",${size}`);
    for (const [key, data] of core.ufs.list()) {
      if (key.startsWith('RAM:') !== ram) continue;
      if (wanted !== undefined && key !== wanted) continue;
      const shown = ram ? key : `${core.profile.fileListPrefix}${key}`;
      io.info(`+QFLST: "${shown}",${data.length}`);
    }
    // A listing of a missing file is a bare OK (§6.3, the emulator's documented choice).
    io.ok();
  },

  '+QFDEL': (cmd, io, core) => {
    if (cmd.form === 'test') return io.ok();
    const name = strArg(cmd.args, 0);
    if (cmd.form !== 'set' || name === undefined || cmd.args.length !== 1) return io.cme(425);
    if (name === '*' || name === 'UFS:*') {
      for (const [key] of core.ufs.list()) if (!key.startsWith('RAM:')) core.ufs.delete(key);
      return io.ok();
    }
    const key = UfsStore.key(name);
    if (key === undefined) return io.cme(406);
    if (!core.ufs.delete(key)) return io.cme(405);
    io.ok();
  },

  '+QFLDS': (cmd, io, core) => {
    if (cmd.form === 'test') return io.ok();
    if (cmd.form === 'exec') {
      io.info(`+QFLDS: ${core.ufs.usedBytes},${core.ufs.list().length}`);
      return io.ok();
    }
    const drive = strArg(cmd.args, 0);
    if (cmd.form !== 'set' || drive !== 'UFS') return io.cme(425);
    io.info(`+QFLDS: ${core.ufs.freeBytes},${core.ufs.totalBytes}`);
    io.ok();
  },
};
