/**
 * Frames one command's response the way a Quectel module does with ATV1 (quectel-at.md §1.1):
 * information lines open with CR LF and are not separated by blank lines; result codes are `\r\n<code>\r\n`;
 * the send prompt is `\r\n> ` with no line end; data blocks are raw.
 */
import { CME_ERRORS } from '../protocol/errorCodes.js';
import type { ResponseWriter } from './ModuleCore.js';

export class ModuleResponse implements ResponseWriter {
  /** True right after an information line, so the next one needs no leading CR LF. */
  private inInfo = false;

  constructor(
    private readonly out: (bytes: Buffer) => void,
    private readonly cmee: () => 0 | 1 | 2,
    private readonly setQiError: (code: number) => void,
    /** Sees each line as text and each data block as its size (the module's trace). */
    private readonly trace?: (kind: 'line' | 'data', text: string | undefined, length: number) => void,
  ) {}

  info(line: string): void {
    this.out(Buffer.from(this.inInfo ? `${line}\r\n` : `\r\n${line}\r\n`, 'latin1'));
    this.trace?.('line', line, line.length);
    this.inInfo = true;
  }

  lineAfterData(line: string): void {
    this.out(Buffer.from(`${line}\r\n`, 'latin1'));
    this.trace?.('line', line, line.length);
    this.inInfo = true;
  }

  bytes(data: Uint8Array): void {
    this.out(Buffer.from(data));
    this.trace?.('data', undefined, data.length);
    this.inInfo = false;
  }

  result(code: string): void {
    this.out(Buffer.from(`\r\n${code}\r\n`, 'latin1'));
    this.trace?.('line', code, code.length);
    this.inInfo = false;
  }

  ok(): void {
    this.final('OK');
  }

  error(): void {
    this.final('ERROR');
  }

  cme(code: number): void {
    const mode = this.cmee();
    if (mode === 0) this.final('ERROR');
    else if (mode === 2 && CME_ERRORS[code] !== undefined && code !== 421) {
      // T16: with CMEE=2 texts are printed, but the 421 upload timeout stayed numeric on EG800K.
      this.final(`+CME ERROR: ${CME_ERRORS[code]}`);
    } else this.final(`+CME ERROR: ${code}`);
  }

  qiError(code: number): void {
    this.setQiError(code);
    this.final('ERROR');
  }

  prompt(): void {
    this.out(Buffer.from('\r\n> ', 'latin1'));
    this.trace?.('line', '> ', 2);
    this.inInfo = false;
  }

  private final(code: string): void {
    this.result(code);
  }
}
