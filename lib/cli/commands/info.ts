/** `usbfn info`: the interface's class info, pipes per speed, bus speed and state. */
import { COMMON_OPTIONS, DEVICE_HELP, DEVICE_OPTIONS, EXIT_HELP, type Command } from '../command.js';
import { ExitCode } from '../exit-codes.js';
import { FUNCTION_HELP, FUNCTION_OPTIONS, describeFunction } from '../describe.js';
import { openTarget } from '../target.js';
import type { PipeInfo } from '../../driver/driver.js';

function pipeRow(p: PipeInfo): Record<string, unknown> {
  return { pipeId: p.pipeId, address: `0x${p.endpointAddress.toString(16).padStart(2, '0')}`, direction: p.direction, type: p.type, maxPacketSize: p.maxPacketSize, interval: p.interval };
}

function pipeText(p: PipeInfo): string {
  return `    pipe ${p.pipeId}  ${`0x${p.endpointAddress.toString(16).padStart(2, '0')}`}  ${p.direction.padEnd(3)}  ${p.type.padEnd(9)}  max packet ${p.maxPacketSize}`;
}

export const infoCommand: Command = {
  name: 'info',
  summary: 'show the interface: name, GUID, pipes per speed, bus speed and state',
  help: `usbfn info [--emulate] [--function serial|bulk] [--guid {GUID}] [--json]

Opens the interface and prints its class information and bus state (with --emulate, after
the emulated host has enumerated it at --speed).

${DEVICE_HELP}
${FUNCTION_HELP}
  --json           one JSON document on stdout
  -h, --help       this help

Example: usbfn info --emulate --function serial --json
${EXIT_HELP}`,
  options: { ...COMMON_OPTIONS, ...DEVICE_OPTIONS, ...FUNCTION_OPTIONS },
  async run(ctx) {
    const target = await openTarget(ctx, 'info', describeFunction(ctx.values, 'info'));
    try {
      // A real device is described as it is now; only the emulated host is asked to enumerate first.
      if (target.emulated) await target.configured();
      const { device } = target;
      const info = device.classInfo;
      const speeds = (['full', 'high', 'super'] as const).map((speed) => ({ speed, pipes: info[speed].pipes.filter((p) => p.type !== 'control') }));
      const data = {
        interfaceName: info.interfaceName,
        interfaceGuid: info.interfaceGuid,
        interfaceNumber: info.high.interfaceNumber,
        emulated: target.emulated,
        state: device.state,
        speed: device.speed,
        pipes: Object.fromEntries(speeds.map((s) => [s.speed, s.pipes.map(pipeRow)])),
      };
      const text = [
        `interface ${info.interfaceName} (number ${info.high.interfaceNumber})${target.emulated ? ' [emulated]' : ''}`,
        `  GUID   ${info.interfaceGuid ?? '(none)'}`,
        `  state  ${device.state}, ${device.speed ?? 'no'} speed`,
        ...speeds.flatMap((s) => [`  ${s.speed}-speed pipes:`, ...s.pipes.map(pipeText)]),
      ];
      ctx.out.result(data, text);
      return ExitCode.OK;
    } finally {
      await target.close();
    }
  },
};
