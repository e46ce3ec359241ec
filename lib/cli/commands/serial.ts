/** `usbfn serial`: a CDC-ACM serial function bridged to stdin/stdout or to a TCP port on 127.0.0.1. */
import net from 'node:net';
import { COMMON_OPTIONS, DEVICE_HELP, DEVICE_OPTIONS, EXIT_HELP, stringOption, type Command, type CommandContext } from '../command.js';
import { ExitCode, usageError } from '../exit-codes.js';
import { describeFunction } from '../describe.js';
import { openTarget } from '../target.js';
import { openSerialFunction, type SerialFunction } from '../../protocols/serial-function.js';
import type { ControlLines, LineCoding } from '../../protocols/cdc-acm.js';
import { hostEchoes, hostOpensPort } from '../emulated-terminal.js';

function reportLineState(ctx: CommandContext, port: SerialFunction): void {
  port.on('linecoding', (lc: LineCoding) => ctx.out.note(`host set line coding ${lc.baudRate} ${lc.dataBits}${lc.parity[0].toUpperCase()}${lc.stopBits}`, { lineCoding: lc }));
  port.on('controllines', (l: ControlLines) => ctx.out.note(`host set DTR ${l.dtr ? 'on' : 'off'}, RTS ${l.rts ? 'on' : 'off'}`, { controlLines: l }));
  port.on('break', (ms: number) => ctx.out.note(`host sent a break (${ms === 0xffff ? 'until cleared' : `${ms} ms`})`, { break: ms }));
}

/** stdin → port, port → stdout. Emulated: ends once everything read from stdin came back. */
async function bridgeStdio(ctx: CommandContext, port: SerialFunction, emulated: boolean): Promise<{ sent: number; received: number }> {
  let sent = 0;
  let received = 0;
  let inputEnded = false;
  return new Promise((resolve) => {
    const finishIfDone = () => {
      if (emulated && inputEnded && received >= sent) resolve({ sent, received });
    };
    port.on('data', (chunk: Buffer) => {
      received += chunk.length;
      ctx.io.stdout.write(chunk);
      finishIfDone();
    });
    ctx.io.stdin.on('data', (chunk: Buffer) => {
      sent += chunk.length;
      port.write(chunk);
    });
    ctx.io.stdin.on('end', () => {
      inputEnded = true;
      finishIfDone();
    });
    ctx.io.signal.addEventListener('abort', () => resolve({ sent, received }), { once: true });
  });
}

/** One TCP client at a time on 127.0.0.1:port, until SIGINT/SIGTERM. */
async function bridgeTcp(ctx: CommandContext, port: SerialFunction, tcpPort: number): Promise<void> {
  let client: net.Socket | null = null;
  port.on('data', (chunk: Buffer) => client?.write(chunk));
  const server = net.createServer((socket) => {
    if (client) {
      socket.end('usbfn serial: another client is connected\n');
      return;
    }
    client = socket;
    ctx.out.note(`client connected from ${socket.remoteAddress}:${socket.remotePort}`);
    socket.on('data', (chunk) => port.write(chunk));
    socket.on('close', () => {
      client = null;
      ctx.out.note('client disconnected');
    });
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(tcpPort, '127.0.0.1', () => resolve()));
  const address = server.address() as net.AddressInfo;
  ctx.out.note(`listening on 127.0.0.1:${address.port}`, { listening: { host: '127.0.0.1', port: address.port } });
  await new Promise((resolve) => ctx.io.signal.addEventListener('abort', resolve, { once: true }));
  (client as net.Socket | null)?.destroy();
  await new Promise((resolve) => server.close(resolve));
}

export const serialCommand: Command = {
  name: 'serial',
  summary: 'a CDC-ACM serial port bridged to stdin/stdout or a TCP port on 127.0.0.1',
  help: `usbfn serial [--emulate] [--tcp PORT] [--layout genericusbfn|functionfs] [--json]

Presents a CDC-ACM serial function (the host sees /dev/ttyACM*, COMx) and bridges its data to
stdin/stdout, or with --tcp to one client at a time on 127.0.0.1:PORT (0 picks a free port; the
port is printed on stderr). The host's line coding, DTR/RTS and breaks are reported on stderr.
With --emulate the emulated host opens the port at 115200 8N1 with DTR and RTS on and echoes
back whatever it receives, so \`echo hi | usbfn serial --emulate\` prints hi; the command ends
when stdin has ended and everything came back. Otherwise it runs until Ctrl-C.

${DEVICE_HELP}
  --tcp PORT       bridge to 127.0.0.1:PORT instead of stdin/stdout
  --layout L       descriptor layout: genericusbfn (default) or functionfs
  --json           notes and the byte counts as JSON lines on stderr (stdout carries the data)
  -h, --help       this help

Example: usbfn serial --emulate --tcp 0
${EXIT_HELP}`,
  options: { ...COMMON_OPTIONS, ...DEVICE_OPTIONS, tcp: { type: 'string' }, layout: { type: 'string' } },
  async run(ctx) {
    const tcpText = stringOption(ctx.values, 'tcp');
    const tcpPort = tcpText === undefined ? undefined : Number(tcpText);
    if (tcpPort !== undefined && (!Number.isInteger(tcpPort) || tcpPort < 0 || tcpPort > 65535)) throw usageError(`--tcp takes a port number 0..65535, got ${tcpText}`, 'serial');
    const description = describeFunction({ function: 'serial', layout: ctx.values.layout }, 'serial');
    const target = await openTarget(ctx, 'serial', description);
    try {
      const port = await openSerialFunction(target.device);
      reportLineState(ctx, port);
      await target.configured();
      if (target.host) {
        await hostOpensPort(target.host);
        void hostEchoes(target.host);
      }
      if (tcpPort !== undefined) {
        await bridgeTcp(ctx, port, tcpPort);
      } else {
        // stdout carries the serial data: the byte counts go to stderr.
        const counts = await bridgeStdio(ctx, port, target.emulated);
        ctx.out.note(`${counts.sent} bytes sent, ${counts.received} received`, counts);
      }
      port.destroy();
      return ExitCode.OK;
    } finally {
      await target.close();
    }
  },
};
