/**
 * Checks user text before it goes inside an AT command (host names, file names, APNs, user names): a quote, a comma
 * or a line break would end the argument or the command and let the text speak AT on its own.
 */
import { QuectelError } from '../errors.js';

/** Printable ASCII without `"` and `,`; Quectel's parsers take nothing else inside a quoted argument. */
const SAFE = /^[\x20-\x7e]*$/;

/**
 * Returns `value` when it is safe inside a quoted AT argument.
 * @param what names the value in the error, e.g. `'APN'`.
 * @param maxLength the longest value the command takes. Default: 255.
 * @throws QuectelError `INVALID_ARGUMENT` for a quote, a comma, a control or non-ASCII character, or too long a value.
 */
export function atText(value: string, what: string, maxLength = 255): string {
  if (typeof value !== 'string' || !SAFE.test(value) || value.includes('"') || value.includes(',')) {
    throw new QuectelError('INVALID_ARGUMENT', `${what} must be printable ASCII without quotes or commas: ${JSON.stringify(value)}`, { what });
  }
  if (value.length > maxLength) {
    throw new QuectelError('INVALID_ARGUMENT', `${what} is longer than ${maxLength} characters`, { what, length: value.length });
  }
  return value;
}
