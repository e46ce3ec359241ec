/**
 * The stream classes every usbfn stream extends: readable-stream 4 (Node's own stream code, one
 * version whatever Node runs), typed as node:stream's classes. readable-stream 4 has the same API,
 * and this way the shipped .d.ts needs no @types/readable-stream and usbfn's streams type-check
 * wherever node:stream's do (pipeline(), for await, a user's Transform).
 */
import * as portable from 'readable-stream';
import type * as node from 'node:stream';

export const Duplex = portable.Duplex as unknown as typeof node.Duplex;
export type Duplex = node.Duplex;
export const Readable = portable.Readable as unknown as typeof node.Readable;
export type Readable = node.Readable;
export const Writable = portable.Writable as unknown as typeof node.Writable;
export type Writable = node.Writable;
