/** Pure data for GenericUSBFn.sys: codes, enums, struct types and codecs. Loads no DLL. */
export * from './ioctl.js';
export * from './win32-errors.js';
export * from './enums.js';
export * from './structs.js';
export * from './codec.js';
export * from './win32-api.js';
