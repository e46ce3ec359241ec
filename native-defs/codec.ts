/**
 * Encoders and decoders between the byte layouts of structs.ts and plain objects, on
 * Buffer/DataView (cheap enough for hot paths). Little-endian, as on every Windows target.
 *
 * Decoders never read past the bytes they are given and reject what a well-behaved driver could
 * not have produced (a PipeCount above 16, a truncated struct) with a CodecError naming the field;
 * the driver layer turns that into a coded UsbFnError.
 */
export * from './codec-core.js';
export * from './codec-class-info.js';
export * from './codec-notification.js';
export * from './codec-interface-info.js';
