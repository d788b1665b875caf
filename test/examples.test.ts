import { expect, test } from 'vitest';
import { main } from '../examples/virtualModule.js';

test('the README example talks to a virtual BG96 and gets the manual\'s checksum', async () => {
  const lines = await main(() => {});
  expect(lines).toEqual(['Quectel', 'BG96', 'Revision: BG96MAR02A07M1G', 'OK', '+QFUPL: 10,3938', 'OK']);
});

test('the README modem example brings a virtual EC25 up and queries an SSL context', async () => {
  const { main: modem } = await import('../examples/modem.js');
  expect(await modem(() => {})).toBe('+QSSLCFG: "sslversion",1,4');
});
