/**
 * koffi declarations of the kernel32 and cfgmgr32 functions the Win32 backend calls, loaded
 * lazily from the libraries win32-library.ts names, plus the OVERLAPPED / OVERLAPPED_ENTRY
 * layouts for this process's pointer size.
 *
 * Types follow the SDK exactly, with explicit widths because Linux's LP64 differs from Windows'
 * LLP64: DWORD and ULONG are `uint32_t` (never koffi's `long`, 8 bytes on Linux), BOOL is `int`,
 * ULONG_PTR is `uintptr_t`, HANDLE and every LP* are `void *`, LPCWSTR is `const char16_t *`
 * (never `wchar_t`, 4 bytes on Linux). `__stdcall` is what the Win32 API uses on x86 and is
 * ignored by koffi on every other architecture, so one prototype string serves everywhere.
 * No global koffi type names are declared: loading this module twice (tsx and dist) must not clash.
 */
import koffi, { type KoffiFunc, type LibraryHandle } from 'koffi';
import createDebug from 'debug';
import { win32LibraryNames } from './win32-library.js';

const debug = createDebug('usbfn:win32');

/** A HANDLE or other pointer as koffi returns it: a BigInt address, or null for NULL. */
export type Pointer = bigint | null;
/** Memory passed by pointer: a caller's buffer (passed zero-copy), a native address, or NULL. */
export type Memory = Uint8Array | bigint | null;

let koffiConfigured = false;

/**
 * Raises koffi's resident async pools to 32 (past the default 8 in flight every async call
 * allocates 256 KiB; throughput was measured 3.5–6.6× lower at 32), once, before any
 * library is loaded: koffi refuses to change its configuration afterwards, so if someone else
 * loaded a library first the default (8) stays and this is logged, not thrown.
 */
export function ensureKoffiConfigured(): void {
  if (koffiConfigured) return;
  koffiConfigured = true;
  try {
    koffi.config({ ...koffi.config(), resident_async_pools: 32 });
  } catch (err) {
    debug('koffi already configured by an earlier library load; async pools stay at default: %s', err);
  }
}

export interface Kernel32 {
  CreateFileW: KoffiFunc<(name: string, access: number, share: number, security: null, disposition: number, flags: number, template: null) => Pointer>;
  DeviceIoControl: KoffiFunc<(handle: bigint, code: number, input: Memory, inputLength: number, output: Memory, outputLength: number, bytesReturned: Memory, overlapped: bigint) => number>;
  CancelIoEx: KoffiFunc<(handle: bigint, overlapped: Pointer) => number>;
  CloseHandle: KoffiFunc<(handle: bigint) => number>;
  CreateIoCompletionPort: KoffiFunc<(file: bigint, existingPort: Pointer, key: number, threads: number) => Pointer>;
  GetQueuedCompletionStatusEx: KoffiFunc<(port: bigint, entries: bigint, count: number, removed: bigint, milliseconds: number, alertable: number) => number>;
  PostQueuedCompletionStatus: KoffiFunc<(port: bigint, bytes: number, key: number, overlapped: Pointer) => number>;
  GetOverlappedResult: KoffiFunc<(handle: bigint, overlapped: bigint, bytes: bigint, wait: number) => number>;
  CreateThread: KoffiFunc<(security: null, stackSize: number, start: bigint, parameter: bigint, flags: number, threadId: null) => Pointer>;
  GetExitCodeThread: KoffiFunc<(thread: bigint, exitCode: number[]) => number>;
  /** The thread's last error. On Windows koffi saves and restores it around each call, so it is
   * the value the previous koffi call on this thread left, whatever Node did in between. */
  GetLastError: KoffiFunc<() => number>;
}

export interface Cfgmgr32 {
  CM_Get_Device_Interface_List_SizeW: KoffiFunc<(length: number[], guid: Uint8Array, deviceId: null, flags: number) => number>;
  CM_Get_Device_Interface_ListW: KoffiFunc<(guid: Uint8Array, deviceId: null, buffer: Uint8Array, lengthChars: number, flags: number) => number>;
  CM_Register_Notification: KoffiFunc<(filter: Uint8Array, context: null, callback: bigint, handle: Pointer[]) => number>;
  CM_Unregister_Notification: KoffiFunc<(handle: bigint) => number>;
  /** CM_Unregister_Notification's address: a DWORD WINAPI (PVOID) function, a thread's start routine. */
  unregisterAddress: bigint;
}

/**
 * ntdll's native I/O call, used instead of DeviceIoControl because its NTSTATUS is the whole
 * synchronous outcome: STATUS_PENDING, an error (no completion packet, nothing written), or
 * success / information / warning (a packet follows, and the status block is written only when
 * it is dequeued). DeviceIoControl folds a warning into FALSE + a Win32 error that cannot be told
 * from a synchronous failure without reading the status block, which is not written yet.
 */
export interface Ntdll {
  NtDeviceIoControlFile: KoffiFunc<(handle: bigint, event: null, apcRoutine: null, apcContext: bigint, ioStatusBlock: bigint, code: number, input: Memory, inputLength: number, output: Memory, outputLength: number) => number>;
  RtlNtStatusToDosError: KoffiFunc<(status: number) => number>;
}

let kernel32Api: Kernel32 | null = null;
let cfgmgr32Api: Cfgmgr32 | null = null;
let ntdllApi: Ntdll | null = null;

function load(path: string): LibraryHandle {
  ensureKoffiConfigured();
  debug('loading %s', path);
  return koffi.load(path);
}

/** kernel32's functions, loaded on first use. Throws USBFN_ERR_PLATFORM where there is none. */
export function kernel32(): Kernel32 {
  if (kernel32Api) return kernel32Api;
  const lib = load(win32LibraryNames().kernel32);
  kernel32Api = {
    CreateFileW: lib.func('void * __stdcall CreateFileW(const char16_t *lpFileName, uint32_t dwDesiredAccess, uint32_t dwShareMode, void *lpSecurityAttributes, uint32_t dwCreationDisposition, uint32_t dwFlagsAndAttributes, void *hTemplateFile)'),
    DeviceIoControl: lib.func('int __stdcall DeviceIoControl(void *hDevice, uint32_t dwIoControlCode, void *lpInBuffer, uint32_t nInBufferSize, void *lpOutBuffer, uint32_t nOutBufferSize, void *lpBytesReturned, void *lpOverlapped)'),
    CancelIoEx: lib.func('int __stdcall CancelIoEx(void *hFile, void *lpOverlapped)'),
    CloseHandle: lib.func('int __stdcall CloseHandle(void *hObject)'),
    CreateIoCompletionPort: lib.func('void * __stdcall CreateIoCompletionPort(void *FileHandle, void *ExistingCompletionPort, uintptr_t CompletionKey, uint32_t NumberOfConcurrentThreads)'),
    GetQueuedCompletionStatusEx: lib.func('int __stdcall GetQueuedCompletionStatusEx(void *CompletionPort, void *lpCompletionPortEntries, uint32_t ulCount, void *ulNumEntriesRemoved, uint32_t dwMilliseconds, int fAlertable)'),
    PostQueuedCompletionStatus: lib.func('int __stdcall PostQueuedCompletionStatus(void *CompletionPort, uint32_t dwNumberOfBytesTransferred, uintptr_t dwCompletionKey, void *lpOverlapped)'),
    GetOverlappedResult: lib.func('int __stdcall GetOverlappedResult(void *hFile, void *lpOverlapped, void *lpNumberOfBytesTransferred, int bWait)'),
    CreateThread: lib.func('void * __stdcall CreateThread(void *lpThreadAttributes, size_t dwStackSize, void *lpStartAddress, void *lpParameter, uint32_t dwCreationFlags, void *lpThreadId)'),
    GetExitCodeThread: lib.func('int __stdcall GetExitCodeThread(void *hThread, _Out_ uint32_t *lpExitCode)'),
    GetLastError: lib.func('uint32_t __stdcall GetLastError()'),
  } as Kernel32;
  return kernel32Api;
}

/** ntdll's functions, loaded on first use. Throws USBFN_ERR_PLATFORM where there is none. */
export function ntdll(): Ntdll {
  if (ntdllApi) return ntdllApi;
  const names = win32LibraryNames();
  const lib = load(names.ntdll ?? names.kernel32);
  ntdllApi = {
    NtDeviceIoControlFile: lib.func('uint32_t __stdcall NtDeviceIoControlFile(void *FileHandle, void *Event, void *ApcRoutine, void *ApcContext, void *IoStatusBlock, uint32_t IoControlCode, void *InputBuffer, uint32_t InputBufferLength, void *OutputBuffer, uint32_t OutputBufferLength)'),
    RtlNtStatusToDosError: lib.func('uint32_t __stdcall RtlNtStatusToDosError(uint32_t Status)'),
  } as Ntdll;
  return ntdllApi;
}

/** cfgmgr32's functions, loaded on first use. Throws USBFN_ERR_PLATFORM where there is none. */
export function cfgmgr32(): Cfgmgr32 {
  if (cfgmgr32Api) return cfgmgr32Api;
  const lib = load(win32LibraryNames().cfgmgr32);
  cfgmgr32Api = {
    CM_Get_Device_Interface_List_SizeW: lib.func('uint32_t __stdcall CM_Get_Device_Interface_List_SizeW(_Out_ uint32_t *pulLen, void *InterfaceClassGuid, const char16_t *pDeviceID, uint32_t ulFlags)'),
    CM_Get_Device_Interface_ListW: lib.func('uint32_t __stdcall CM_Get_Device_Interface_ListW(void *InterfaceClassGuid, const char16_t *pDeviceID, void *Buffer, uint32_t BufferLen, uint32_t ulFlags)'),
    CM_Register_Notification: lib.func('__stdcall', 'CM_Register_Notification', 'uint32_t', ['void *', 'void *', koffi.pointer(CM_NOTIFY_CALLBACK), koffi.out(koffi.pointer('void *'))]),
    CM_Unregister_Notification: lib.func('uint32_t __stdcall CM_Unregister_Notification(void *NotifyContext)'),
    unregisterAddress: BigInt(lib.symbol('CM_Unregister_Notification') as bigint),
  } as Cfgmgr32;
  return cfgmgr32Api;
}

/** PCM_NOTIFY_CALLBACK: DWORD (HCMNOTIFICATION, PVOID Context, CM_NOTIFY_ACTION, PCM_NOTIFY_EVENT_DATA, DWORD size). */
export const CM_NOTIFY_CALLBACK = koffi.proto('__stdcall', null, 'uint32_t', ['void *', 'void *', 'uint32_t', 'void *', 'uint32_t']);

/** Pointer size of this process: 8 on x64 and ARM64, 4 on x86. */
export const POINTER_SIZE = koffi.sizeof('void *');

const OVERLAPPED = koffi.struct({
  Internal: 'uintptr_t',
  InternalHigh: 'uintptr_t',
  Offset: 'uint32_t', // union { struct { Offset, OffsetHigh }; PVOID Pointer }: same size and alignment
  OffsetHigh: 'uint32_t',
  hEvent: 'void *',
});

const OVERLAPPED_ENTRY = koffi.struct({
  lpCompletionKey: 'uintptr_t',
  lpOverlapped: 'void *',
  Internal: 'uintptr_t',
  dwNumberOfBytesTransferred: 'uint32_t',
});

/** Size and field offsets of OVERLAPPED (32 bytes on 64-bit, 20 on x86). */
export const OVERLAPPED_LAYOUT = Object.freeze({
  size: koffi.sizeof(OVERLAPPED),
  internal: koffi.offsetof(OVERLAPPED, 'Internal'),
  internalHigh: koffi.offsetof(OVERLAPPED, 'InternalHigh'),
});

/** Size and field offsets of OVERLAPPED_ENTRY (32 bytes on 64-bit, 16 on x86). */
export const OVERLAPPED_ENTRY_LAYOUT = Object.freeze({
  size: koffi.sizeof(OVERLAPPED_ENTRY),
  key: koffi.offsetof(OVERLAPPED_ENTRY, 'lpCompletionKey'),
  overlapped: koffi.offsetof(OVERLAPPED_ENTRY, 'lpOverlapped'),
  bytes: koffi.offsetof(OVERLAPPED_ENTRY, 'dwNumberOfBytesTransferred'),
});

/**
 * Reads a pointer-sized unsigned value as a Number. Exact: user-space addresses stay below 2^48
 * on every 64-bit Windows target, far under 2^53, and avoiding BigInt keeps the harvester cheap.
 */
export function readPointer(view: DataView, offset: number): number {
  if (POINTER_SIZE === 4) return view.getUint32(offset, true);
  return view.getUint32(offset, true) + view.getUint32(offset + 4, true) * 0x1_0000_0000;
}

/** INVALID_HANDLE_VALUE, (HANDLE)-1, as koffi passes and returns it. */
export const INVALID_HANDLE_VALUE = (1n << BigInt(POINTER_SIZE * 8)) - 1n;

/** True for INVALID_HANDLE_VALUE (CreateFileW's failure) or NULL. */
export function isInvalidHandle(handle: Pointer): boolean {
  return handle === null || handle === INVALID_HANDLE_VALUE;
}
