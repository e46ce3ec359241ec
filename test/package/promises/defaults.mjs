// README's documented defaults, observed from the outside: the pipe options table, the
// GenericUsbFnDriver options table, the event iterator's limit, the no-data handshake, the
// serial function's line coding, and the state of a fresh device.
import { UsbFnDevice, GenericUsbFnDriver, BULK_PIPE_DEFAULTS } from 'usbfn';
import { EmulatedGenericUsbFn } from 'usbfn/emulator';
import { openSerialFunction, serialInterfaceDeclaration, emulatorOptionsFor } from 'usbfn/protocols';
import { promise, runPromises, same, failsWith, ok, settle } from './harness.mjs';

/** A device on the emulator whose every IOCTL is recorded as { name, length } in `ioctls`. */
async function stack({ enumerate = true, emulatorOptions, driverOptions, deviceOptions } = {}) {
  const emulated = new EmulatedGenericUsbFn(emulatorOptions);
  const ioctls = [];
  emulated.on('ioctl', (info) => ioctls.push(info));
  const device = await UsbFnDevice.open({ driver: new GenericUsbFnDriver(emulated, driverOptions), ...deviceOptions });
  if (enumerate) await emulated.host.enumerate({ speed: 'high' });
  const codeOf = (name) => ioctls.find((i) => i.name === name)?.code;
  const pending = (name) => (codeOf(name) === undefined ? 0 : emulated.pending({ code: codeOf(name) }));
  return { emulated, device, host: emulated.host, ioctls, pending };
}

/** Waits (bounded by the hang guard) until `condition()` holds, letting completions run. */
async function until(condition) {
  while (!condition()) await new Promise((r) => setTimeout(r, 5));
}

promise('BULK_PIPE_DEFAULTS is the pipe options table: 4, 256 KiB, copy, 8, auto, false, wait, resend, wait', () => {
  const { readsOutstanding, readSize, readBuffers, writesInFlight, zlp, packetMode, onBusLoss, cancelledWrites, onStall } = BULK_PIPE_DEFAULTS;
  same({ readsOutstanding, readSize, readBuffers, writesInFlight, zlp, packetMode, onBusLoss, cancelledWrites, onStall },
    { readsOutstanding: 4, readSize: 262144, readBuffers: 'copy', writesInFlight: 8, zlp: 'auto', packetMode: false, onBusLoss: 'wait', cancelledWrites: 'resend', onStall: 'wait' });
});

promise('a reader keeps readsOutstanding (4) TRANSFER_OUTs of readSize (256 KiB) in flight', async () => {
  const s = await stack();
  const reader = s.device.openReader();
  reader.on('data', () => undefined);
  await until(() => s.pending('TRANSFER_OUT') === 4);
  await settle();
  same(s.pending('TRANSFER_OUT'), 4, 'TRANSFER_OUTs pending');
  same([...new Set(s.ioctls.filter((i) => i.name === 'TRANSFER_OUT').map((i) => i.length))], [262144], 'transfer lengths');
  await s.device.close();
});

promise('a writer keeps at most writesInFlight (8) TRANSFER_INs in flight', async () => {
  const s = await stack();
  const writer = s.device.openWriter({ zlp: 'never' });
  for (let i = 0; i < 20; i++) writer.write(Buffer.from(`record ${i}`));
  await until(() => s.pending('TRANSFER_IN') === 8);
  await settle(20);
  same(s.pending('TRANSFER_IN'), 8, 'TRANSFER_INs pending');
  await s.device.close();
});

promise("readBuffers 'lend': the pool holds 2 × readsOutstanding buffers and reads stop while all are lent", async () => {
  const s = await stack();
  const reader = s.device.openReader({ readBuffers: 'lend', readsOutstanding: 2 });
  const lent = [];
  let text = ''; // read now: a lent chunk's bytes are the pool's again once returned
  reader.on('data', (chunk) => {
    lent.push(chunk);
    text += chunk.toString();
  });
  const sending = (async () => {
    for (let i = 0; i < 8; i++) await s.host.bulkOut(0x01, Buffer.from(`t${i}`));
  })();
  await until(() => lent.length === 4);
  await settle(20);
  same(lent.length, 4, 'chunks lent before reads stop');
  same(s.pending('TRANSFER_OUT'), 0, 'reads issued while every buffer is lent');
  reader.returnChunk(lent[0]);
  await failsWith('USBFN_ERR_INVALID_ARG', () => reader.returnChunk(lent[0]), 'returning a chunk twice');
  await failsWith('USBFN_ERR_INVALID_ARG', () => reader.returnChunk(Buffer.alloc(4)), 'returning a chunk the pipe did not lend');
  for (const chunk of lent.slice(1)) reader.returnChunk(chunk);
  await until(() => lent.length === 8);
  await sending;
  same(text, 't0t1t2t3t4t5t6t7', 'the data, in order');
  for (const chunk of lent.slice(4)) reader.returnChunk(chunk);
  await s.device.close();
});

promise('GenericUsbFnDriver: notificationDepth 4 BUS_EVENT_NOTIFICATIONs pending, initialDescriptorSetBuffer 256', async () => {
  const s = await stack({ enumerate: false });
  await until(() => s.pending('BUS_EVENT_NOTIFICATION') === 4);
  await settle();
  same(s.pending('BUS_EVENT_NOTIFICATION'), 4, 'notifications pending');
  await s.device.driver.getInterfaceDescriptorSet(0, 'high');
  same(s.ioctls.find((i) => i.name === 'GET_INTERFACE_DESCRIPTOR_SET')?.length, 256, 'first GET_INTERFACE_DESCRIPTOR_SET buffer');
  await s.device.close();
});

promise('GenericUsbFnDriver: eventQueueLimit 1024 events held for a slow reader, then notifications stop', async () => {
  const emulated = new EmulatedGenericUsbFn();
  const ioctls = [];
  emulated.on('ioctl', (info) => ioctls.push(info));
  const driver = new GenericUsbFnDriver(emulated);
  await driver.getClassInfo();
  await driver.activate();
  await emulated.host.enumerate({ waitForDevice: false });
  const notifications = () => ioctls.filter((i) => i.name === 'BUS_EVENT_NOTIFICATION');
  for (let i = 0; i < 600; i++) {
    emulated.host.suspend(); // nobody reads: each event waits in the driver's queue
    emulated.host.resume();
    await settle(2); // (the emulator's own queue holds 256: let the driver take them as they come)
  }
  const pendingNotifications = () => emulated.pending({ code: notifications()[0].code });
  await until(() => pendingNotifications() === 0); // the queue is full: no notification is re-issued
  // Every issued notification has completed into the driver's queue: re-issuing stopped once it
  // held 1024 (the ones already pending then, at most 4, still complete).
  const held = notifications().length;
  ok(held >= 1024 && held <= 1024 + 4, `${held} events held for a queue of 1024`);
  const first = [];
  for (let i = 0; i < 5; i++) first.push((await driver.nextBusEvent()).type);
  same(first, ['attach', 'reset', 'configured', 'suspend', 'resume'], 'the first events, in order');
  await driver.close();
});

promise("device.events(): limit 1024 by default, then USBFN_ERR_OVERFLOW after the ones it holds", async () => {
  const s = await stack();
  const iterator = s.device.events()[Symbol.asyncIterator]();
  let resumed = 0;
  s.device.on('resume', () => resumed++);
  for (let i = 0; i < 520; i++) {
    s.host.suspend();
    s.host.resume();
    await settle(2); // (the emulator's own queue holds 256: let the driver take them as they come)
  }
  await until(() => resumed === 520); // 1040 events, none taken from the iterator yet
  let yielded = 0;
  await failsWith('USBFN_ERR_OVERFLOW', async () => {
    for (;;) {
      const { done } = await iterator.next();
      if (done) return;
      yielded++;
    }
  }, 'the iterator');
  same(yielded, 1024, 'events yielded before the overflow');
  await s.device.close();
});

promise("a request without data stage ends with the OUT handshake by default; noDataHandshake: 'in' and ack({ handshake: 'in' }) switch", async () => {
  const handshakes = async (deviceOptions, ack) => {
    const s = await stack({ deviceOptions });
    s.device.control.on('setup', (req) => void ack(req));
    await s.host.controlTransfer({ bmRequestType: 0x40, bRequest: 1, wValue: 0, wIndex: 0, wLength: 0 });
    await s.device.close();
    return s.ioctls.filter((i) => i.name.startsWith('CONTROL_STATUS_HANDSHAKE')).map((i) => i.name);
  };
  same(await handshakes({}, (req) => req.ack()), ['CONTROL_STATUS_HANDSHAKE_OUT'], 'default');
  same(await handshakes({ noDataHandshake: 'in' }, (req) => req.ack()), ['CONTROL_STATUS_HANDSHAKE_IN'], "noDataHandshake: 'in'");
  same(await handshakes({}, (req) => req.ack({ handshake: 'in' })), ['CONTROL_STATUS_HANDSHAKE_IN'], "ack({ handshake: 'in' })");
});

promise('a fresh device: state detached, speed null, not configured; pipes of the default emulator 0x81 and 0x01', async () => {
  const s = await stack({ enumerate: false });
  same([s.device.state, s.device.speed, s.device.configured], ['detached', null, false], '[state, speed, configured]');
  same(s.device.pipes.map((p) => p.endpointAddress), [0x81, 0x01], 'pipes');
  same([s.device.findPipe(0x81)?.endpointAddress, s.device.findPipe('in')?.endpointAddress], [0x81, 0x81], 'findPipe');
  await s.host.enumerate({ speed: 'high' });
  same([s.device.state, s.device.speed, s.device.configured], ['configured', 'high', true], 'after enumerate');
  await s.device.close();
});

promise('serial function: GET_LINE_CODING answers 115200 8N1 before any SET_LINE_CODING, then the last one set; other class requests go to your handlers or are stalled', async () => {
  const emulated = new EmulatedGenericUsbFn(emulatorOptionsFor(serialInterfaceDeclaration()));
  const device = await UsbFnDevice.open({ driver: new GenericUsbFnDriver(emulated) });
  await openSerialFunction(device);
  await emulated.host.enumerate();
  const get = () => emulated.host.controlTransfer({ bmRequestType: 0xa1, bRequest: 0x21, wValue: 0, wIndex: 0, wLength: 7 });
  same(Buffer.from(await get()).toString('hex'), Buffer.from([0x00, 0xc2, 0x01, 0x00, 0, 0, 8]).toString('hex'), 'line coding before a SET');
  const coding = Buffer.from([0x80, 0x25, 0, 0, 0, 0, 8]);
  await emulated.host.controlTransfer({ bmRequestType: 0x21, bRequest: 0x20, wValue: 0, wIndex: 0, wLength: 7 }, coding);
  same(Buffer.from(await get()).toString('hex'), coding.toString('hex'), 'line coding after a SET');
  await failsWith('USBFN_ERR_STALLED', () => emulated.host.controlTransfer({ bmRequestType: 0xa1, bRequest: 0x7f, wValue: 0, wIndex: 0, wLength: 1 }), 'a class request nobody handles');
  device.control.handle({ type: 'class', request: 0x7e }, () => Buffer.from([0x42]));
  same([...(await emulated.host.controlTransfer({ bmRequestType: 0xa1, bRequest: 0x7e, wValue: 0, wIndex: 0, wLength: 1 }))], [0x42], "a class request the function leaves to the app's handler");
  await device.close();
});

await runPromises();
