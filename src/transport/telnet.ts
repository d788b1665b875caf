/**
 * The telnet framing RFC 2217 rides on (RFC 854/855), as bytes: data with `IAC` (0xFF) doubled, option
 * negotiation (`IAC WILL|WONT|DO|DONT <option>`) and subnegotiation (`IAC SB <option> … IAC SE`, whose own 0xFF
 * bytes are doubled too). {@link TelnetDecoder} keeps its state between chunks, so a command split across reads
 * is still one command, and it never looks into data for anything but `IAC`.
 */

export const IAC = 0xff;
export const DONT = 0xfe;
export const DO = 0xfd;
export const WONT = 0xfc;
export const WILL = 0xfb;
export const SB = 0xfa;
export const SE = 0xf0;

/** Telnet options this client uses. */
export const OPTION = { BINARY: 0, SGA: 3, COM_PORT: 44 } as const;

/** A verb of option negotiation. */
export type Negotiation = typeof WILL | typeof WONT | typeof DO | typeof DONT;

/** What the decoder found besides data. */
export type TelnetEvent =
  | { readonly kind: 'negotiate'; readonly verb: Negotiation; readonly option: number }
  | { readonly kind: 'subnegotiate'; readonly option: number; readonly payload: Uint8Array }
  | { readonly kind: 'command'; readonly code: number };

/** The longest subnegotiation kept; a longer one is cut (a server gone wrong must not take all memory). */
const MAX_SUBNEGOTIATION = 4096;

type State = 'data' | 'iac' | 'verb' | 'sb-option' | 'sb' | 'sb-iac';

export class TelnetDecoder {
  private state: State = 'data';
  private verb: Negotiation = WILL;
  private sbOption = 0;
  private sb: number[] = [];
  private lastWasCr = false;

  /**
   * @param stripCrNul Whether `CR NUL` in data stands for `CR` (the peer sends without the BINARY option). Read
   *   at each byte, so it can change as negotiation goes.
   */
  constructor(private readonly stripCrNul: () => boolean = () => false) {}

  /** Splits `chunk` into data and telnet events, in order of arrival: events that came between data are in `events`. */
  decode(chunk: Uint8Array): { data: Uint8Array; events: TelnetEvent[] } {
    const out = new Uint8Array(chunk.length);
    let n = 0;
    const events: TelnetEvent[] = [];
    for (const b of chunk) {
      switch (this.state) {
        case 'data':
          if (b === IAC) this.state = 'iac';
          else if (b === 0 && this.lastWasCr && this.stripCrNul()) this.lastWasCr = false;
          else {
            out[n++] = b;
            this.lastWasCr = b === 0x0d;
          }
          break;
        case 'iac':
          if (b === IAC) {
            out[n++] = IAC;
            this.lastWasCr = false;
            this.state = 'data';
          } else if (b === WILL || b === WONT || b === DO || b === DONT) {
            this.verb = b;
            this.state = 'verb';
          } else if (b === SB) {
            this.state = 'sb-option';
          } else {
            events.push({ kind: 'command', code: b });
            this.state = 'data';
          }
          break;
        case 'verb':
          events.push({ kind: 'negotiate', verb: this.verb, option: b });
          this.state = 'data';
          break;
        case 'sb-option':
          this.sbOption = b;
          this.sb = [];
          this.state = 'sb';
          break;
        case 'sb':
          if (b === IAC) this.state = 'sb-iac';
          else if (this.sb.length < MAX_SUBNEGOTIATION) this.sb.push(b);
          break;
        case 'sb-iac':
          if (b === SE) {
            events.push({ kind: 'subnegotiate', option: this.sbOption, payload: Uint8Array.from(this.sb) });
            this.state = 'data';
          } else {
            // IAC IAC is a 0xFF of the payload; anything else after IAC is malformed: keep the byte, stay inside.
            if (this.sb.length < MAX_SUBNEGOTIATION) this.sb.push(b);
            this.state = 'sb';
          }
          break;
      }
    }
    return { data: out.subarray(0, n), events };
  }
}

/** `data` with each 0xFF doubled; with `stuffCr`, each CR not followed by LF is sent as `CR NUL` (no BINARY). */
export function escapeData(data: Uint8Array, stuffCr = false): Uint8Array {
  let extra = 0;
  for (let i = 0; i < data.length; i++) {
    if (data[i] === IAC) extra++;
    else if (stuffCr && data[i] === 0x0d && data[i + 1] !== 0x0a) extra++;
  }
  if (extra === 0) return data;
  const out = new Uint8Array(data.length + extra);
  let n = 0;
  for (let i = 0; i < data.length; i++) {
    const b = data[i]!;
    out[n++] = b;
    if (b === IAC) out[n++] = IAC;
    else if (stuffCr && b === 0x0d && data[i + 1] !== 0x0a) out[n++] = 0;
  }
  return out;
}

/** `IAC <verb> <option>`. */
export function negotiation(verb: Negotiation, option: number): Uint8Array {
  return Uint8Array.of(IAC, verb, option);
}

/** `IAC SB <option> <payload, 0xFF doubled> IAC SE`. */
export function subnegotiation(option: number, payload: Uint8Array): Uint8Array {
  const body = escapeData(payload);
  const out = new Uint8Array(body.length + 5);
  out.set([IAC, SB, option]);
  out.set(body, 3);
  out.set([IAC, SE], body.length + 3);
  return out;
}
