/** Pure data for GenericUSBFn.sys: codes, enums, struct sizes and codecs. Loads no native code (the koffi struct types are in structs.ts). */
export * from './ioctl.js';
export * from './win32-errors.js';
export * from './enums.js';
export * from './layout.js';
export * from './codec.js';
export * from './win32-api.js';
