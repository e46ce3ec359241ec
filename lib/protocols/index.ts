/**
 * usbfn/protocols: functions built on UsbFnDevice.
 * - openSerialFunction(device): a CDC-ACM serial port (the host sees /dev/ttyACM*, COMx).
 * - openMessageChannel(device): request/response and one-way messages, one per USB transfer.
 * - InterfaceDeclaration: the declarative interface description every backend and
 *   `usbfn windows-config` derive their descriptors from.
 * Byte-stream framing on a serial port: use serialport's parsers (@serialport/parser-*), which
 * pipe onto these streams unchanged.
 */
export { openSerialFunction, SerialFunction, SERIAL_PIPE_DEFAULTS, type SerialFunctionOptions } from './serial-function.js';
export {
  CdcRequest, CDC_NOTIFY_SERIAL_STATE, DEFAULT_LINE_CODING, DEFAULT_SERIAL_GUID, serialInterfaceDeclaration,
  encodeLineCoding, decodeLineCoding, encodeSerialState, decodeControlLines,
  type LineCoding, type ControlLines, type SerialState, type Parity, type StopBits, type SerialLayout, type SerialDeclarationOptions,
} from './cdc-acm.js';
export { openMessageChannel, MessageChannel, type MessageChannelOptions, type RequestHandler, type RequestOptions } from './message-channel.js';
export { FRAME_HEADER_SIZE, FrameKind, encodeFrame, decodeFrame, type Frame, type FrameKindValue } from './message-frame.js';
export {
  descriptorSet, emulatorOptionsFor, vendorBulkDeclaration, validateDeclaration,
  type InterfaceDeclaration, type EndpointDeclaration, type DeclarationSpeed,
} from './interface-declaration.js';
