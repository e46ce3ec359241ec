/**
 * Win32 constants the koffi backend passes to kernel32 and cfgmgr32 (winbase.h, winnt.h,
 * ntstatus.h, cfgmgr32.h, WinError.h), with the SDK spelling. Pure data: loads no DLL. The
 * GenericUSBFn.sys errors themselves are in win32-errors.ts.
 */

/** CreateFileW dwDesiredAccess: the GenericUSBFn codes need FILE_READ_DATA | FILE_WRITE_DATA. */
export const GENERIC_READ = 0x80000000;
export const GENERIC_WRITE = 0x40000000;
/** CreateFileW dwShareMode. */
export const FILE_SHARE_READ = 0x1;
export const FILE_SHARE_WRITE = 0x2;
/** CreateFileW dwCreationDisposition: a device interface is opened, never created. */
export const OPEN_EXISTING = 3;
/** CreateFileW dwFlagsAndAttributes: every request on the handle is asynchronous (an OVERLAPPED). */
export const FILE_FLAG_OVERLAPPED = 0x40000000;

/** GetQueuedCompletionStatusEx dwMilliseconds: wait without a timeout. */
export const INFINITE = 0xffffffff;
/** GetQueuedCompletionStatusEx with a timeout and nothing queued. */
export const WAIT_TIMEOUT = 258;
/** GetQueuedCompletionStatusEx: the port's handle was closed while waiting. */
export const ERROR_ABANDONED_WAIT_0 = 735;
/** GetOverlappedResult(bWait = FALSE) on a request still in flight. */
export const ERROR_IO_INCOMPLETE = 996;
/** A warning status (STATUS_BUFFER_OVERFLOW): partial data, the request still completed. */
export const ERROR_MORE_DATA = 234;
/** CreateFileW: the handle lacks the access an IOCTL's CTL_CODE asks for. */
export const ERROR_ACCESS_DENIED = 5;

/** OVERLAPPED.Internal holds an NTSTATUS: 0 on success, STATUS_PENDING while in flight. */
export const STATUS_SUCCESS = 0x00000000;
export const STATUS_PENDING = 0x00000103;
/** NTSTATUS severity (bits 30–31): 0 success, 1 informational, 2 warning, 3 error. */
export const NT_SEVERITY_WARNING = 2;
export const NT_SEVERITY_ERROR = 3;
/** The severity of an NTSTATUS (unsigned 32-bit). */
export function ntStatusSeverity(status: number): number {
  return (status >>> 30) & 3;
}

/** CONFIGRET values of cfgmgr32. */
export const CR_SUCCESS = 0x00;
export const CR_BUFFER_SMALL = 0x1a;
/** CM_Get_Device_Interface_List*W ulFlags: only interfaces that are present (enabled) now. */
export const CM_GET_DEVICE_INTERFACE_LIST_PRESENT = 0x0;
/** CM_NOTIFY_FILTER.FilterType for device interface arrival/removal. */
export const CM_NOTIFY_FILTER_TYPE_DEVICEINTERFACE = 0;
/** CM_NOTIFY_ACTION values passed to a CM_Register_Notification callback. */
export const CM_NOTIFY_ACTION_DEVICEINTERFACEARRIVAL = 0;
export const CM_NOTIFY_ACTION_DEVICEINTERFACEREMOVAL = 1;
/** MAX_DEVICE_ID_LEN: CM_NOTIFY_FILTER's union ends with WCHAR InstanceId[200]. */
export const MAX_DEVICE_ID_LEN = 200;
/**
 * sizeof(CM_NOTIFY_FILTER): cbSize, Flags, FilterType, Reserved (4 × DWORD) then a union whose
 * largest member is WCHAR[200] (400 bytes); 416 on x86, x64 and ARM64 alike.
 */
export const CM_NOTIFY_FILTER_SIZE = 16 + 2 * MAX_DEVICE_ID_LEN;
/** Offset of u.DeviceInterface.ClassGuid in CM_NOTIFY_FILTER. */
export const CM_NOTIFY_FILTER_GUID_OFFSET = 16;
/** Offset of u.DeviceInterface.SymbolicLink in CM_NOTIFY_EVENT_DATA (FilterType, Reserved, GUID). */
export const CM_NOTIFY_EVENT_DATA_LINK_OFFSET = 24;
/** CM_NOTIFY_FILTER.FilterType for the device behind an open handle (query-remove and removal). */
export const CM_NOTIFY_FILTER_TYPE_DEVICEHANDLE = 1;
/** Offset of u.DeviceHandle.hTarget in CM_NOTIFY_FILTER. */
export const CM_NOTIFY_FILTER_HANDLE_OFFSET = 16;
/** CM_NOTIFY_ACTION values for a device-handle registration. */
export const CM_NOTIFY_ACTION_DEVICEQUERYREMOVE = 2;
export const CM_NOTIFY_ACTION_DEVICEQUERYREMOVEFAILED = 3;
export const CM_NOTIFY_ACTION_DEVICEREMOVEPENDING = 4;
export const CM_NOTIFY_ACTION_DEVICEREMOVECOMPLETE = 5;
/** GetExitCodeThread's answer while the thread runs. */
export const STILL_ACTIVE = 259;
