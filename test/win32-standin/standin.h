/*
 * The Win32 stand-in: a Linux shared library exporting the kernel32/cfgmgr32 functions usbfn's
 * koffi code calls, with the same names and the same ABI (HANDLE = pointer, DWORD/ULONG = u32,
 * BOOL = i32, ULONG_PTR = pointer-sized, WCHAR = u16), so that lib/driver/genericusbfn/win32-*.ts
 * runs unchanged against it. Device behaviour is not implemented here: every DeviceIoControl is
 * forwarded to a JS callback (the emulator), which completes it later with standin_complete().
 * What *is* implemented here, honestly, is what Windows itself does around a driver: handles,
 * OVERLAPPED status/byte count, completion ports with their own threads, cancellation,
 * and interface discovery/notification.
 */
#ifndef USBFN_STANDIN_H
#define USBFN_STANDIN_H

#include <pthread.h>
#include <stdint.h>

#if defined(__i386__)
#define WINAPI __attribute__((stdcall)) /* koffi uses __stdcall on x86: match it */
#else
#define WINAPI
#endif
#define EXPORT __attribute__((visibility("default")))

typedef uint32_t DWORD;
typedef uint32_t ULONG;
typedef int32_t BOOL;
typedef uint8_t UCHAR;
typedef uint16_t WCHAR;
typedef uintptr_t ULONG_PTR;
typedef void *HANDLE;
typedef uint32_t NTSTATUS;
typedef DWORD CONFIGRET;

typedef struct {
  ULONG_PTR Internal;     /* NTSTATUS of the request; STATUS_PENDING while in flight */
  ULONG_PTR InternalHigh; /* bytes transferred */
  union {
    struct { DWORD Offset; DWORD OffsetHigh; } s;
    void *Pointer;
  } u;
  HANDLE hEvent;
} OVERLAPPED;

typedef struct {
  ULONG_PTR lpCompletionKey;
  OVERLAPPED *lpOverlapped;
  ULONG_PTR Internal;
  DWORD dwNumberOfBytesTransferred;
} OVERLAPPED_ENTRY;

typedef struct {
  uint32_t Data1;
  uint16_t Data2;
  uint16_t Data3;
  uint8_t Data4[8];
} GUID;

#define TRUE 1
#define FALSE 0
#define INVALID_HANDLE_VALUE ((HANDLE)(intptr_t)-1)
#define INFINITE 0xFFFFFFFFu

#define ERROR_SUCCESS 0u
#define ERROR_FILE_NOT_FOUND 2u
#define ERROR_ACCESS_DENIED 5u
#define ERROR_INVALID_HANDLE 6u
#define ERROR_NOT_ENOUGH_MEMORY 8u
#define ERROR_GEN_FAILURE 31u
#define ERROR_NOT_SUPPORTED 50u
#define ERROR_INVALID_PARAMETER 87u
#define ERROR_INSUFFICIENT_BUFFER 122u
#define ERROR_MORE_DATA 234u
#define WAIT_TIMEOUT 258u
#define ERROR_ABANDONED_WAIT_0 735u
#define ERROR_OPERATION_ABORTED 995u
#define ERROR_IO_INCOMPLETE 996u
#define ERROR_IO_PENDING 997u
#define ERROR_DEVICE_NOT_CONNECTED 1167u
#define ERROR_NOT_FOUND 1168u
#define ERROR_BAD_COMMAND 22u

#define STATUS_SUCCESS 0x00000000u
#define STATUS_PENDING 0x00000103u

#define GENERIC_READ 0x80000000u
#define GENERIC_WRITE 0x40000000u
#define OPEN_EXISTING 3u
#define FILE_FLAG_OVERLAPPED 0x40000000u

/* Win32 error <-> NTSTATUS, as RtlNtStatusToDosError maps them (kernel32.c). */
NTSTATUS standin_win32_to_nt(DWORD err);
DWORD standin_nt_to_win32(NTSTATUS st);

/* Thread-local last error, as GetLastError keeps it per thread. */
void standin_set_last_error(DWORD err);

/* The stand-in's one big lock: handle table, requests, devices, interfaces. Never held while a
 * JS callback runs (JS may call back into the stand-in). Ports and queues have their own locks. */
extern pthread_mutex_t standin_lock;

/* Handle table shared by kernel32.c (devices, ports). */
enum { H_FREE = 0, H_DEVICE, H_PORT, H_THREAD };
void *standin_handle_get(HANDLE h, int type);   /* caller holds standin_lock */
HANDLE standin_handle_new(int type, void *obj); /* caller holds standin_lock */

/* port.c: an I/O completion port object. Reference-counted: its handle, each associated device
 * and each thread waiting in GetQueuedCompletionStatusEx hold one. */
typedef struct port port;
port *standin_port_new(void);
void standin_port_ref(port *p);
void standin_port_unref(port *p);
/* Queues a packet returning `ov` to the dequeuer; for an I/O request `iosb` is its status block,
 * written with `internal` and `bytes` when the packet is dequeued (NULL for a posted packet).
 * Returns 0 (and drops it) when the port's handle is already closed. Consumes the caller's
 * reference to `p` (standin_port_ref), dropped under the port's lock as the packet is queued. */
int standin_port_post(port *p, ULONG_PTR key, OVERLAPPED *ov, OVERLAPPED *iosb, ULONG_PTR internal, DWORD bytes);
/* The port's handle was closed: drop queued packets, wake waiters with ERROR_ABANDONED_WAIT_0. */
void standin_port_close(port *p);
/* True while a packet for `ov` (as value or status block) waits in the port (its OVERLAPPED is not the caller's again yet). */
int standin_port_holds(port *p, OVERLAPPED *ov);

/* ioctl.c: a handle opened with CreateFileW on a device interface. Reference-counted: its handle
 * and each outstanding request hold one. Fields are guarded by standin_lock. */
typedef struct request request;
typedef struct device {
  uint32_t iface;  /* the interface it was opened on: the JS side routes requests by it */
  DWORD access;
  int overlapped;  /* FILE_FLAG_OVERLAPPED: the stand-in supports only overlapped handles */
  int closed;
  int refs;
  port *port;      /* associated completion port (a reference), or NULL */
  ULONG_PTR key;
  request *pending; /* requests not yet completed (cancellable), doubly linked */
} device;
/* Requests to cancel, collected under the lock and forwarded to JS after it is released. */
typedef struct cancel_list cancel_list;
cancel_list *standin_collect_cancels(device *dev, OVERLAPPED *ov); /* caller holds the lock */
int standin_forward_cancels(cancel_list *cl); /* returns how many were forwarded; frees cl */
void standin_device_unref(device *dev);       /* caller holds the lock */

/* kernel32.c: the interface an open device handle is on (0 for none or a closed one). Locked. */
uint32_t standin_handle_interface(HANDLE h);

/* Device interface ids run from 1 to STANDIN_MAX_IFACES and are never reused (cfgmgr32.c). */
#define STANDIN_MAX_IFACES 4096

/* transport.c: completes a bulk transfer on an interface switched to the instant native transport
 * (setting *bytes, returning 1), or returns 0 to leave it to the JS driver. Caller holds the lock. */
int standin_instant_transfer(uint32_t iface, DWORD code, const void *in, DWORD in_len, void *out, DWORD out_len,
                             DWORD *bytes);

/* cfgmgr32.c: the interface a symbolic link names (0 when none is present). Caller holds the lock. */
uint32_t standin_interface_by_link(const WCHAR *link);
/* Open handles on interface `iface`, after adding `delta`. Caller holds the lock. */
int standin_interface_handles(uint32_t iface, int delta);

/* ioctl.c: tells the driver (JS) that the last handle on `iface` was closed (IRP_MJ_CLOSE). */
void standin_notify_closed(uint32_t iface);

/* notify.c: queue an arrival/removal for delivery to registered notification callbacks. */
#define CR_SUCCESS 0x00u
#define CR_INVALID_POINTER 0x03u
#define CR_INVALID_FLAG 0x04u
#define CR_FAILURE 0x13u
#define CR_BUFFER_SMALL 0x1Au
#define CR_INVALID_DEVICE_ID 0x1Eu
#define CR_INVALID_DATA 0x1Fu
#define ACTION_ARRIVAL 0u /* CM_NOTIFY_ACTION_DEVICEINTERFACEARRIVAL */
#define ACTION_REMOVAL 1u /* CM_NOTIFY_ACTION_DEVICEINTERFACEREMOVAL */
#define ACTION_QUERYREMOVE 2u       /* CM_NOTIFY_ACTION_DEVICEQUERYREMOVE (to handle registrations) */
#define ACTION_QUERYREMOVEFAILED 3u /* CM_NOTIFY_ACTION_DEVICEQUERYREMOVEFAILED */
#define ACTION_REMOVECOMPLETE 5u    /* CM_NOTIFY_ACTION_DEVICEREMOVECOMPLETE */
void standin_queue_event(DWORD action, const GUID *g, const WCHAR *link);
/* notify.c: queue a query-remove of interface `iface` (its outcome: standin_query_remove_done). */
void standin_queue_query_remove(uint32_t iface);
/* cfgmgr32.c: records a query-remove's outcome (0 removed, 1 vetoed) and removes it if 0. */
void standin_query_remove_done(uint32_t iface, int vetoed);

/* Counters read by tests (standin_stats): what leaked, what was posted twice. */
enum {
  ST_HANDLES_OPEN, ST_REQUESTS_OUTSTANDING, ST_REQUESTS_STARTED, ST_COMPLETIONS, ST_BAD_COMPLETIONS,
  ST_PACKETS_POSTED, ST_PACKETS_DEQUEUED, ST_PACKETS_DROPPED, ST_CANCELS_FORWARDED, ST_OV_REUSE,
  ST_PORTS_ALIVE, ST_DEVICES_ALIVE, ST_REGISTRATIONS, ST_NOTIFICATIONS_DELIVERED, ST_CALLBACKS_RUNNING, ST_THREADS_ALIVE,
  ST_COUNT
};
extern uint32_t standin_counters[ST_COUNT]; /* updated under standin_lock or atomically */
#define STAT_ADD(i, n) __atomic_add_fetch(&standin_counters[i], (n), __ATOMIC_RELAXED)

#endif
