/*
 * kernel32 objects: GetLastError, the Win32 error <-> NTSTATUS map, the handle table,
 * CreateFileW, CreateIoCompletionPort and CloseHandle. Requests (DeviceIoControl, CancelIoEx,
 * GetOverlappedResult) are in ioctl.c, ports in port.c.
 */
#define _GNU_SOURCE /* dladdr */
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "standin.h"

/* Pinned for the life of the process, as Windows pins kernel32: the stand-in runs threads of its
 * own (completions, notifications), and koffi dlcloses a library when its last handle is
 * finalized, which Node does while tearing the environment down at exit. Unmapped under a thread
 * still running here, the process died with SIGSEGV at exit (issue 11 item 7). RTLD_NOLOAD |
 * RTLD_NODELETE takes one more reference that no dlclose can drop. */
__attribute__((constructor)) static void pin_library(void) {
  Dl_info self;
  if (dladdr((void *)pin_library, &self) && self.dli_fname) dlopen(self.dli_fname, RTLD_NOW | RTLD_NOLOAD | RTLD_NODELETE);
}

pthread_mutex_t standin_lock = PTHREAD_MUTEX_INITIALIZER;
uint32_t standin_counters[ST_COUNT];
static __thread DWORD last_error;

void standin_set_last_error(DWORD err) { last_error = err; }
EXPORT DWORD WINAPI GetLastError(void) { return last_error; }
EXPORT void WINAPI SetLastError(DWORD err) { last_error = err; }

/* ---- Win32 error <-> NTSTATUS (RtlNtStatusToDosError's table, for the codes that matter) ---- */

static const struct { DWORD err; NTSTATUS st; } status_map[] = {
  { ERROR_SUCCESS, STATUS_SUCCESS },           { ERROR_OPERATION_ABORTED, 0xC0000120u },
  { ERROR_INSUFFICIENT_BUFFER, 0xC0000023u },  { ERROR_DEVICE_NOT_CONNECTED, 0xC000009Du },
  { ERROR_GEN_FAILURE, 0xC0000001u },          { ERROR_INVALID_PARAMETER, 0xC000000Du },
  { ERROR_NOT_SUPPORTED, 0xC00000BBu },        { ERROR_INVALID_HANDLE, 0xC0000008u },
  { ERROR_FILE_NOT_FOUND, 0xC0000034u },       { ERROR_NOT_FOUND, 0xC0000225u },
  { ERROR_MORE_DATA, 0x80000005u },            { ERROR_ACCESS_DENIED, 0xC0000022u },
};
#define STATUS_MAP_LEN (sizeof status_map / sizeof status_map[0])

/* Anything else travels as NTSTATUS_FROM_WIN32 (facility 7), which Windows maps back exactly. */
NTSTATUS standin_win32_to_nt(DWORD err) {
  for (size_t i = 0; i < STATUS_MAP_LEN; i++) if (status_map[i].err == err) return status_map[i].st;
  return 0xC0070000u | (err & 0xFFFFu);
}

DWORD standin_nt_to_win32(NTSTATUS st) {
  for (size_t i = 0; i < STATUS_MAP_LEN; i++) if (status_map[i].st == st) return status_map[i].err;
  if ((st & 0xFFFF0000u) == 0xC0070000u) return st & 0xFFFFu;
  return 317; /* ERROR_MR_MID_NOT_FOUND, as Windows answers for a status it cannot map */
}

/* ---- handle table: small multiples of 4, like real handles; reused after close, like them ---- */

#define MAX_HANDLES 4096
static struct { int type; void *obj; } handles[MAX_HANDLES];

static int handle_slot(HANDLE h) {
  uintptr_t v = (uintptr_t)h;
  if (v == 0 || v % 4 || v / 4 > MAX_HANDLES) return -1;
  return (int)(v / 4 - 1);
}

void *standin_handle_get(HANDLE h, int type) {
  int i = handle_slot(h);
  return i >= 0 && handles[i].type == type ? handles[i].obj : NULL;
}

HANDLE standin_handle_new(int type, void *obj) {
  for (int i = 0; i < MAX_HANDLES; i++) {
    if (handles[i].type != H_FREE) continue;
    handles[i].type = type;
    handles[i].obj = obj;
    STAT_ADD(ST_HANDLES_OPEN, 1);
    return (HANDLE)(uintptr_t)((i + 1) * 4);
  }
  return NULL;
}

static void handle_free(int i) {
  handles[i].type = H_FREE;
  handles[i].obj = NULL;
  STAT_ADD(ST_HANDLES_OPEN, -1);
}

uint32_t standin_handle_interface(HANDLE h) {
  device *dev = standin_handle_get(h, H_DEVICE);
  return dev && !dev->closed ? dev->iface : 0;
}

/* ---- CreateThread / GetExitCodeThread: a real thread, its exit code kept until both the thread
 * has ended and its handle is closed. Node never joins it, as it never joins a Win32 thread. ---- */

#define STILL_ACTIVE 259u
typedef DWORD (WINAPI *thread_start)(void *);
typedef struct { thread_start start; void *param; DWORD code; int done, refs; } win_thread;

static void thread_unref(win_thread *t) { /* caller holds the lock */
  if (--t->refs > 0) return;
  free(t);
  STAT_ADD(ST_THREADS_ALIVE, -1);
}

static void *thread_main(void *arg) {
  win_thread *t = arg;
  DWORD code = t->start(t->param);
  pthread_mutex_lock(&standin_lock);
  t->code = code;
  t->done = 1;
  thread_unref(t);
  pthread_mutex_unlock(&standin_lock);
  return NULL;
}

/* Flags (CREATE_SUSPENDED, …), a stack size and the thread id are not modelled: refused or 0. */
EXPORT HANDLE WINAPI CreateThread(void *security, size_t stack, thread_start start, void *param, DWORD flags, DWORD *tid) {
  (void)security; (void)stack;
  win_thread *t = start && !flags ? calloc(1, sizeof *t) : NULL;
  if (!t) { standin_set_last_error(start && !flags ? ERROR_NOT_ENOUGH_MEMORY : ERROR_INVALID_PARAMETER); return NULL; }
  *t = (win_thread){ start, param, 0, 0, 2 }; /* the handle's reference and the thread's */
  pthread_mutex_lock(&standin_lock);
  HANDLE h = standin_handle_new(H_THREAD, t);
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  pthread_t pt;
  int failed = !h || pthread_create(&pt, &attr, thread_main, t) != 0;
  pthread_attr_destroy(&attr);
  if (failed && h) handle_free(handle_slot(h));
  if (!failed) STAT_ADD(ST_THREADS_ALIVE, 1);
  pthread_mutex_unlock(&standin_lock);
  if (failed) { free(t); standin_set_last_error(ERROR_NOT_ENOUGH_MEMORY); return NULL; }
  if (tid) *tid = 0;
  return h;
}

EXPORT BOOL WINAPI GetExitCodeThread(HANDLE h, DWORD *code) {
  pthread_mutex_lock(&standin_lock);
  win_thread *t = standin_handle_get(h, H_THREAD);
  if (t && code) *code = t->done ? t->code : STILL_ACTIVE;
  pthread_mutex_unlock(&standin_lock);
  if (!t || !code) { standin_set_last_error(t ? ERROR_INVALID_PARAMETER : ERROR_INVALID_HANDLE); return FALSE; }
  return TRUE;
}

/* ---- CreateFileW / CreateIoCompletionPort / CloseHandle ---- */

EXPORT HANDLE WINAPI CreateFileW(const WCHAR *name, DWORD access, DWORD share, void *security, DWORD disposition,
                                 DWORD flags, HANDLE template_file) {
  (void)share; (void)security; (void)template_file;
  if (!name) { standin_set_last_error(ERROR_INVALID_PARAMETER); return INVALID_HANDLE_VALUE; }
  pthread_mutex_lock(&standin_lock);
  uint32_t iface = standin_interface_by_link(name);
  DWORD err = !iface ? ERROR_FILE_NOT_FOUND : disposition != OPEN_EXISTING ? ERROR_INVALID_PARAMETER : 0;
  device *dev = err ? NULL : calloc(1, sizeof *dev);
  HANDLE h = dev ? standin_handle_new(H_DEVICE, dev) : NULL;
  if (dev && h) {
    *dev = (device){ .iface = iface, .access = access, .overlapped = !!(flags & FILE_FLAG_OVERLAPPED), .refs = 1 };
    standin_interface_handles(iface, 1);
    STAT_ADD(ST_DEVICES_ALIVE, 1);
  } else if (!err) {
    free(dev);
    err = ERROR_NOT_ENOUGH_MEMORY;
  }
  pthread_mutex_unlock(&standin_lock);
  if (err) { standin_set_last_error(err); return INVALID_HANDLE_VALUE; }
  return h;
}

static HANDLE associate(HANDLE file, HANDLE existing, ULONG_PTR key, DWORD *err) {
  device *dev = standin_handle_get(file, H_DEVICE);
  if (!dev) { *err = ERROR_INVALID_HANDLE; return NULL; }
  if (dev->port) { *err = ERROR_INVALID_PARAMETER; return NULL; } /* one port per file, for life */
  port *p = existing ? standin_handle_get(existing, H_PORT) : standin_port_new();
  if (!p) { *err = existing ? ERROR_INVALID_HANDLE : ERROR_NOT_ENOUGH_MEMORY; return NULL; }
  HANDLE h = existing ? existing : standin_handle_new(H_PORT, p);
  if (!h) { standin_port_unref(p); *err = ERROR_NOT_ENOUGH_MEMORY; return NULL; }
  standin_port_ref(p); /* the device's reference */
  dev->port = p;
  dev->key = key;
  return h;
}

EXPORT HANDLE WINAPI CreateIoCompletionPort(HANDLE file, HANDLE existing, ULONG_PTR key, DWORD threads) {
  (void)threads;
  DWORD err = 0;
  HANDLE h = NULL;
  pthread_mutex_lock(&standin_lock);
  if (file != INVALID_HANDLE_VALUE) {
    h = associate(file, existing, key, &err);
  } else if (existing) {
    err = ERROR_INVALID_PARAMETER;
  } else {
    port *p = standin_port_new();
    h = p ? standin_handle_new(H_PORT, p) : NULL;
    if (!h) { if (p) standin_port_unref(p); err = ERROR_NOT_ENOUGH_MEMORY; }
  }
  pthread_mutex_unlock(&standin_lock);
  if (err) standin_set_last_error(err);
  return h;
}

EXPORT BOOL WINAPI CloseHandle(HANDLE h) {
  pthread_mutex_lock(&standin_lock);
  int i = handle_slot(h);
  if (i < 0 || handles[i].type == H_FREE) {
    pthread_mutex_unlock(&standin_lock);
    standin_set_last_error(ERROR_INVALID_HANDLE);
    return FALSE;
  }
  int type = handles[i].type;
  void *obj = handles[i].obj;
  handle_free(i);
  if (type == H_THREAD) {
    thread_unref(obj);
    pthread_mutex_unlock(&standin_lock);
    return TRUE;
  }
  if (type == H_PORT) {
    pthread_mutex_unlock(&standin_lock);
    standin_port_close(obj);
    standin_port_unref(obj);
    return TRUE;
  }
  /* IRP_MJ_CLEANUP: closing a handle cancels what is still pending on it; once the interface's
   * last handle is closed the driver hears of it (IRP_MJ_CLOSE): the emulator closes, as it does
   * when the driver above closes it directly. */
  device *dev = obj;
  dev->closed = 1;
  uint32_t iface = dev->iface;
  int last = standin_interface_handles(iface, -1) == 0;
  cancel_list *cl = standin_collect_cancels(dev, NULL);
  standin_device_unref(dev);
  pthread_mutex_unlock(&standin_lock);
  standin_forward_cancels(cl);
  if (last) standin_notify_closed(iface);
  return TRUE;
}
