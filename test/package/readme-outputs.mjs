// What the README's programs say they print: a `console.log(…); // output` comment is a promise
// too. Each expectation names its program by a line of its code and the text its output must hold;
// every console.log line of README.md with such a comment must have one here (or be listed as not
// run on this platform), so a new one cannot slip in unchecked.

/** [a line of the program's code, text its output must contain]. */
export const EXPECTED_OUTPUTS = [
  ['console.log(Buffer.from(version).toString(), Buffer.from(echoed).toString()); // usbfn 1.0 ping', 'usbfn 1.0 ping'],
  ['console.log(device.state, device.pipes.map((p) => p.endpointAddress)); // detached [ 129, 1 ]', 'detached [ 129, 1 ]'],
  ["console.log('baud', Buffer.from(coding).readUInt32LE(0)); // baud 115200", 'baud 115200'],
  ['console.log(Buffer.from(version).toString()); // v1.0', 'v1.0'],
  ["console.log('host gone; state', device.state); // detached", 'host gone; state detached'],
  ['console.log(info.high.pipes.map((p) => p.endpointAddress)); // [ 0, 129, 1 ]: EP0, then the data pipes', '[ 0, 129, 1 ]'],
  ["console.log(await driver.nextBusEvent()); // { type: 'attach', speed: 'high' }, then reset, configured", "{ type: 'attach', speed: 'high' }"],
  ["port.on('linecoding', (lc) => console.log(lc));        // { baudRate: 9600, dataBits: 8, parity: 'none', stopBits: 1 }", "{ baudRate: 9600, dataBits: 8, parity: 'none', stopBits: 1 }"],
  ['console.log(answer.id, answer.payload.toString());     // 7 STATUS', '7 STATUS'],
  ['console.log((await reply).toString());                 // 1.0', '\n1.0'],
  ['console.log(`${payloadMBps.toFixed(1)} MB/s, ${(utilisation * 100).toFixed(1)}% of the link`); // 53.2 MB/s, 100.0% of the link', '53.2 MB/s, 100.0% of the link'],
  // Printed without a comment, but what the surrounding text promises:
  ["console.log(received === sent ? 'every record, in order' : 'LOST OR REORDERED', faults.counts);", 'every record, in order'],
  ["console.log('the host received', received, 'bytes');", 'the host received 200000 bytes'],
  ["device.on('configured', (value) => console.log('host chose configuration', value));", 'host chose configuration 1'],
  ["if (ev.type === 'reset') console.log('reset at', ev.speed);", 'reset at high'],
  ["device.on('close', () => console.log('all transfers cancelled, buffers released, driver closed'));", 'all transfers cancelled, buffers released, driver closed'],
  ["console.log('line:', line);", 'line: first line\nline: second line'],
  ["console.log('echoed', JSON.stringify(Buffer.from(await host.bulkIn(0x81, 512)).toString()));", 'echoed "hello\\r\\n"'],
  ["port.on('controllines', ({ dtr, rts }) => console.log({ dtr, rts }));", '{ dtr: true, rts: false }'],
];

/** console.log lines with an output comment in programs that do not run here (they open real hardware). */
export const NOT_RUN_HERE = ["console.log('present now:', listDeviceInterfaces(GUID)); // device interface paths"];

/**
 * Checks each program's `output` (set by the runner) against EXPECTED_OUTPUTS; `report(name,
 * outcome, detail)` receives one result per expectation, plus one for README lines left unchecked.
 */
export function checkReadmeOutputs(markdown, programs, report) {
  const commented = markdown.split('\n').map((l) => l.trim()).filter((l) => /console\.log\(.*\/\/ /.test(l));
  const known = new Set([...EXPECTED_OUTPUTS.map(([code]) => code), ...NOT_RUN_HERE]);
  const unchecked = commented.filter((l) => !known.has(l));
  const what = 'every README console.log with an output comment has an expected output in readme-outputs.mjs';
  if (unchecked.length) report(what, 'failed', unchecked.join('\n'));
  else report(what, 'passed');
  for (const [code, expected] of EXPECTED_OUTPUTS) {
    const name = `README program printing ${JSON.stringify(expected)} prints it`;
    // The last program holding the line: a continued program repeats the code before it.
    const program = programs.filter((p) => p.code.split('\n').some((l) => l.trim() === code)).pop();
    if (!program) report(name, 'failed', `no README program has the line ${code}`);
    else if (program.output === undefined) report(name, 'skipped', `skipped: the program at line ${program.line} did not run`);
    else if (program.output.includes(expected)) report(name, 'passed');
    else report(name, 'failed', `line ${program.line} printed:\n${program.output}`);
  }
}
