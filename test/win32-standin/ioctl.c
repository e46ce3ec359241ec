/*
 * DeviceIoControl, NtDeviceIoControlFile, CancelIoEx, GetOverlappedResult and the completion
 * thread. The I/O manager's rules are reproduced because they are what the koffi code must get
 * right (IopCompleteRequest, IoRemoveIoCompletion):
 *  - NtDeviceIoControlFile calls the "driver": the JS forward callback, synchronously on the
 *    caller's thread, as a dispatch routine runs, and returns its NTSTATUS. DeviceIoControl is
 *    kernelbase's wrapper: it sets OVERLAPPED.Internal = STATUS_PENDING, passes the OVERLAPPED as
 *    both the status block and the APC context, and turns the NTSTATUS into BOOL + last error.
 *  - Completed inside dispatch with an error: no status block, no packet; the error is returned.
 *  - Completed inside dispatch with success, information or a warning, or completed later: on a
 *    handle bound to a completion port a packet is queued, and the status block is written only
 *    when that packet is dequeued (port.c), so Internal still reads STATUS_PENDING when the call
 *    returns. On a handle with no port the block is written at completion.
 *  - Otherwise STATUS_PENDING (FALSE + ERROR_IO_PENDING); standin_complete() later hands the
 *    request to the completion thread, which posts the packet. So completions really arrive from
 *    another thread, after the JS call returned.
 *  - CancelIoEx only *requests* cancellation (the JS cancel callback aborts the emulator's
 *    request); the request still completes exactly once, with 995 or with whatever won the race.
 *    A request already handed to the completion thread is not found (ERROR_NOT_FOUND).
 * Stricter than Windows, on purpose: a non-overlapped handle, a NULL OVERLAPPED, or an OVERLAPPED
 * that is still in flight on the handle (or whose packet is still queued) is refused with
 * ERROR_INVALID_PARAMETER (and counted), because each is a bug in the caller that Windows would
 * let corrupt memory instead.
 */
#include <stdlib.h>
#include <unistd.h>

#include "standin.h"

enum { R_FREE, R_PENDING, R_CANCELLING, R_DONE_SYNC, R_COMPLETING };

struct request {
  uint32_t id, gen;
  int state, in_dispatch;
  device *dev;
  OVERLAPPED *ov;        /* the status block (what CancelIoEx matches) */
  void *ctx;             /* the APC context: what the completion packet hands back */
  DWORD status, bytes;
  request *prev, *next; /* device's list (pending or completing), or the free list (next) */
  request *qnext;       /* completion queue: a completing request is still on its device's list */
};

typedef void (*forward_fn)(uint32_t iface, uint32_t req, uint32_t code, void *in, uint32_t in_len, void *out,
                           uint32_t out_len);
typedef void (*cancel_fn)(uint32_t iface, uint32_t req);
typedef void (*closed_fn)(uint32_t iface);
static forward_fn g_forward;
static cancel_fn g_cancel;
static closed_fn g_closed;

/* ---- request table: chunks that never move, so a request pointer stays valid unlocked ---- */

#define REQ_CHUNK 1024
#define REQ_CHUNKS 1023 /* ids stay below 2^20: a token is id | generation << 20 */
static request *chunks[REQ_CHUNKS];
static request *free_list;

static request *request_alloc(void) {
  if (!free_list) {
    int c = 0;
    while (c < REQ_CHUNKS && chunks[c]) c++;
    if (c == REQ_CHUNKS || !(chunks[c] = calloc(REQ_CHUNK, sizeof(request)))) return NULL;
    for (int i = REQ_CHUNK - 1; i >= 0; i--) {
      chunks[c][i].id = (uint32_t)(c * REQ_CHUNK + i + 1);
      chunks[c][i].next = free_list;
      free_list = &chunks[c][i];
    }
  }
  request *r = free_list;
  free_list = r->next;
  r->gen++;
  r->prev = r->next = NULL;
  return r;
}

static request *request_get(uint32_t id) {
  if (id == 0 || (id - 1) / REQ_CHUNK >= REQ_CHUNKS || !chunks[(id - 1) / REQ_CHUNK]) return NULL;
  request *r = &chunks[(id - 1) / REQ_CHUNK][(id - 1) % REQ_CHUNK];
  return r->state == R_FREE ? NULL : r;
}

static void list_add(device *d, request *r) {
  r->prev = NULL;
  r->next = d->pending;
  if (d->pending) d->pending->prev = r;
  d->pending = r;
}

static void list_remove(device *d, request *r) {
  if (r->prev) r->prev->next = r->next; else d->pending = r->next;
  if (r->next) r->next->prev = r->prev;
  r->prev = r->next = NULL;
}

void standin_device_unref(device *dev) {
  if (--dev->refs > 0) return;
  if (dev->port) standin_port_unref(dev->port);
  free(dev);
  STAT_ADD(ST_DEVICES_ALIVE, -1);
}

/* Frees a finished request (caller holds the lock). */
static void request_retire(request *r) {
  device *dev = r->dev;
  list_remove(dev, r);
  r->state = R_FREE;
  r->dev = NULL;
  r->ov = NULL;
  r->ctx = NULL;
  r->next = free_list;
  free_list = r;
  STAT_ADD(ST_REQUESTS_OUTSTANDING, -1);
  standin_device_unref(dev);
}

/* ---- the completion thread ---- */

static pthread_mutex_t cq_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cq_cond = PTHREAD_COND_INITIALIZER;
static request *cq_head, *cq_tail;
static uint32_t completion_delay_us;
static uint32_t completion_linger_us;
static int completion_inline; /* standin_set_completion_thread(0): deliver on the completing thread */
static pthread_once_t completion_once = PTHREAD_ONCE_INIT;

/* Completes a request as IopCompleteRequest does: on a handle bound to a port, queues the packet
 * (the status block is written when it is dequeued, port.c); on a handle with no port, writes the
 * block now (bytes first, then status with release order: a reader that sees the status also
 * sees the count). */
static void deliver(request *r) {
  NTSTATUS st = standin_win32_to_nt(r->status);
  OVERLAPPED *ov = r->ov;
  void *ctx = r->ctx;
  pthread_mutex_lock(&standin_lock);
  port *p = r->dev->port;
  ULONG_PTR key = r->dev->key;
  DWORD bytes = r->bytes;
  if (p) standin_port_ref(p);
  else {
    ov->InternalHigh = bytes;
    __atomic_store_n(&ov->Internal, (ULONG_PTR)st, __ATOMIC_RELEASE);
  }
  request_retire(r);
  pthread_mutex_unlock(&standin_lock);
  if (p) standin_port_post(p, key, ctx, ov, (ULONG_PTR)st, bytes); /* drops our reference */
  uint32_t linger = __atomic_load_n(&completion_linger_us, __ATOMIC_RELAXED);
  if (linger) usleep(linger); /* as a completing thread preempted right after posting */
}

static void *completion_thread(void *arg) {
  (void)arg;
  for (;;) {
    pthread_mutex_lock(&cq_lock);
    while (!cq_head) pthread_cond_wait(&cq_cond, &cq_lock);
    request *r = cq_head;
    cq_head = r->qnext;
    if (!cq_head) cq_tail = NULL;
    pthread_mutex_unlock(&cq_lock);
    uint32_t delay = __atomic_load_n(&completion_delay_us, __ATOMIC_RELAXED);
    if (delay) usleep(delay);
    deliver(r);
  }
  return NULL;
}

static void start_completion_thread(void) {
  pthread_t t;
  pthread_create(&t, NULL, completion_thread, NULL);
  pthread_detach(t);
}

static void queue_completion(request *r) {
  pthread_once(&completion_once, start_completion_thread);
  r->qnext = NULL;
  pthread_mutex_lock(&cq_lock);
  if (cq_tail) cq_tail->qnext = r; else cq_head = r;
  cq_tail = r;
  pthread_cond_signal(&cq_cond);
  pthread_mutex_unlock(&cq_lock);
}

/* ---- cancellation ---- */

struct cancel_list {
  uint32_t found; /* matching requests still cancellable (pending or already being cancelled) */
  uint32_t n;     /* of which newly marked, to forward */
  struct { uint32_t token, iface; } items[];
};

static uint32_t token_of(const request *r) { return (r->gen & 0xFFFu) << 20 | r->id; }

static request *request_by_token(uint32_t token) {
  request *r = request_get(token & 0xFFFFFu);
  return r && (r->gen & 0xFFFu) == token >> 20 ? r : NULL;
}

cancel_list *standin_collect_cancels(device *dev, OVERLAPPED *ov) {
  uint32_t n = 0;
  for (request *r = dev->pending; r; r = r->next) n += !ov || r->ov == ov;
  cancel_list *cl = malloc(sizeof *cl + n * sizeof cl->items[0]);
  if (!cl) return NULL;
  cl->found = cl->n = 0;
  for (request *r = dev->pending; r; r = r->next) {
    if ((ov && r->ov != ov) || (r->state != R_PENDING && r->state != R_CANCELLING)) continue;
    cl->found++;
    if (r->state == R_CANCELLING) continue; /* already asked: the driver has it */
    r->state = R_CANCELLING;
    cl->items[cl->n].token = token_of(r);
    cl->items[cl->n++].iface = dev->iface;
  }
  return cl;
}

EXPORT int32_t standin_complete(uint32_t token, DWORD status, DWORD bytes);

int standin_forward_cancels(cancel_list *cl) {
  int forwarded = 0;
  for (uint32_t i = 0; cl && i < cl->n; i++) {
    pthread_mutex_lock(&standin_lock);
    request *r = request_by_token(cl->items[i].token);
    int live = r && r->state == R_CANCELLING; /* an earlier callback may have completed it */
    cancel_fn cancel = g_cancel;
    pthread_mutex_unlock(&standin_lock);
    if (!live) continue;
    forwarded++;
    STAT_ADD(ST_CANCELS_FORWARDED, 1);
    if (cancel) cancel(cl->items[i].iface, cl->items[i].token);
    else standin_complete(cl->items[i].token, ERROR_OPERATION_ABORTED, 0);
  }
  free(cl);
  return forwarded;
}

EXPORT BOOL WINAPI CancelIoEx(HANDLE h, OVERLAPPED *ov) {
  pthread_mutex_lock(&standin_lock);
  device *dev = standin_handle_get(h, H_DEVICE);
  cancel_list *cl = dev ? standin_collect_cancels(dev, ov) : NULL;
  pthread_mutex_unlock(&standin_lock);
  if (!dev) { standin_set_last_error(ERROR_INVALID_HANDLE); return FALSE; }
  if (!cl) { standin_set_last_error(ERROR_NOT_ENOUGH_MEMORY); return FALSE; }
  if (cl->found == 0) {
    free(cl);
    standin_set_last_error(ERROR_NOT_FOUND);
    return FALSE;
  }
  standin_forward_cancels(cl);
  return TRUE;
}

/* ---- DeviceIoControl ---- */

static DWORD check_request(device *dev, DWORD code, OVERLAPPED *ov) {
  if (!dev || dev->closed) return ERROR_INVALID_HANDLE;
  if (!ov || !dev->overlapped) return ERROR_INVALID_PARAMETER;
  DWORD need = (code >> 14) & 3; /* CTL_CODE access: FILE_READ_DATA 1, FILE_WRITE_DATA 2 */
  if (((need & 1) && !(dev->access & GENERIC_READ)) || ((need & 2) && !(dev->access & GENERIC_WRITE)))
    return ERROR_ACCESS_DENIED;
  int reused = 0;
  for (request *r = dev->pending; r && !reused; r = r->next) reused = r->ov == ov;
  if (!reused && dev->port) reused = standin_port_holds(dev->port, ov);
  if (reused) {
    STAT_ADD(ST_OV_REUSE, 1);
    return ERROR_INVALID_PARAMETER;
  }
  return 0;
}

/* After the forward callback returned: STATUS_PENDING, or the status it completed with inside
 * dispatch (see the top). `bytes` gets the count of a synchronous success or warning. */
static NTSTATUS finish_dispatch(request *r, DWORD *bytes) {
  pthread_mutex_lock(&standin_lock);
  r->in_dispatch = 0;
  if (r->state != R_DONE_SYNC) {
    pthread_mutex_unlock(&standin_lock);
    return STATUS_PENDING;
  }
  NTSTATUS st = standin_win32_to_nt(r->status);
  if (st >> 30 == 3) { /* an error, not pended: no status block, no packet */
    request_retire(r);
    pthread_mutex_unlock(&standin_lock);
    return st;
  }
  r->state = R_COMPLETING;
  *bytes = r->bytes;
  pthread_mutex_unlock(&standin_lock);
  deliver(r); /* the packet is queued before the call returns, as a completion inside dispatch does */
  return st;
}

/* Starts a request on `h` with status block `iosb` and APC context `ctx`; `mark_pending` sets
 * iosb->Internal = STATUS_PENDING once the request is accepted (DeviceIoControl's part). */
static NTSTATUS start_request(HANDLE h, DWORD code, void *in, DWORD in_len, void *out, DWORD out_len,
                              OVERLAPPED *iosb, void *ctx, int mark_pending, DWORD *bytes) {
  pthread_mutex_lock(&standin_lock);
  device *dev = standin_handle_get(h, H_DEVICE);
  DWORD err = check_request(dev, code, iosb);
  request *r = err ? NULL : request_alloc();
  if (!err && !r) err = ERROR_NOT_ENOUGH_MEMORY;
  if (err) {
    pthread_mutex_unlock(&standin_lock);
    return standin_win32_to_nt(err);
  }
  r->state = R_PENDING;
  r->in_dispatch = 1;
  r->dev = dev;
  r->ov = iosb;
  r->ctx = ctx;
  r->status = r->bytes = 0;
  dev->refs++;
  list_add(dev, r);
  if (mark_pending) {
    iosb->InternalHigh = 0;
    iosb->Internal = STATUS_PENDING;
  }
  STAT_ADD(ST_REQUESTS_STARTED, 1);
  STAT_ADD(ST_REQUESTS_OUTSTANDING, 1);
  if (standin_instant_transfer(dev->iface, code, in, in_len, out, out_len, &r->bytes)) {
    r->state = R_DONE_SYNC; /* the instant transport (transport.c) completed it inside dispatch */
    STAT_ADD(ST_COMPLETIONS, 1);
    pthread_mutex_unlock(&standin_lock);
    return finish_dispatch(r, bytes);
  }
  uint32_t token = token_of(r), iface = dev->iface;
  forward_fn forward = g_forward;
  pthread_mutex_unlock(&standin_lock);
  if (forward) forward(iface, token, code, in, in_len, out, out_len);
  else standin_complete(token, ERROR_NOT_SUPPORTED, 0);
  return finish_dispatch(r, bytes);
}

/* ntdll's NtDeviceIoControlFile, for an overlapped handle with no event and no APC routine (what
 * usbfn passes; anything else is refused): the NTSTATUS is the whole synchronous outcome. */
EXPORT NTSTATUS WINAPI NtDeviceIoControlFile(HANDLE h, HANDLE event, void *apc_routine, void *apc_context,
                                             OVERLAPPED *iosb, ULONG code, void *in, ULONG in_len, void *out,
                                             ULONG out_len) {
  if (event || apc_routine) return standin_win32_to_nt(ERROR_NOT_SUPPORTED);
  DWORD bytes = 0;
  return start_request(h, code, in, in_len, out, out_len, iosb, apc_context, 0, &bytes);
}

/* ntdll's RtlNtStatusToDosError. */
EXPORT ULONG WINAPI RtlNtStatusToDosError(NTSTATUS st) { return standin_nt_to_win32(st); }

EXPORT BOOL WINAPI DeviceIoControl(HANDLE h, DWORD code, void *in, DWORD in_len, void *out, DWORD out_len,
                                   DWORD *bytes_returned, OVERLAPPED *ov) {
  DWORD bytes = 0;
  NTSTATUS st = start_request(h, code, in, in_len, out, out_len, ov, ov, 1, &bytes);
  if (st == STATUS_PENDING) {
    standin_set_last_error(ERROR_IO_PENDING);
    return FALSE;
  }
  if (st >> 30 <= 1) {
    if (bytes_returned) *bytes_returned = bytes;
    return TRUE;
  }
  standin_set_last_error(standin_nt_to_win32(st));
  return FALSE;
}

EXPORT BOOL WINAPI GetOverlappedResult(HANDLE h, OVERLAPPED *ov, DWORD *bytes, BOOL wait) {
  pthread_mutex_lock(&standin_lock);
  int valid = standin_handle_get(h, H_DEVICE) != NULL;
  pthread_mutex_unlock(&standin_lock);
  if (!valid) { standin_set_last_error(ERROR_INVALID_HANDLE); return FALSE; }
  if (!ov || !bytes) { standin_set_last_error(ERROR_INVALID_PARAMETER); return FALSE; }
  NTSTATUS st;
  while ((st = (NTSTATUS)__atomic_load_n(&ov->Internal, __ATOMIC_ACQUIRE)) == STATUS_PENDING) {
    if (!wait) { standin_set_last_error(ERROR_IO_INCOMPLETE); return FALSE; }
    usleep(200); /* no event object here: poll, as a wait on the file handle would block */
  }
  *bytes = (DWORD)ov->InternalHigh;
  if (st >> 30 <= 1) return TRUE;
  standin_set_last_error(standin_nt_to_win32(st));
  return FALSE;
}

/* ---- test-only exports ---- */

void standin_notify_closed(uint32_t iface) {
  pthread_mutex_lock(&standin_lock);
  closed_fn closed = g_closed;
  pthread_mutex_unlock(&standin_lock);
  if (closed) closed(iface);
}

/** Sets the "driver": forward(iface, token, code, in, inLen, out, outLen) for each request,
 * cancel(iface, token) when one is cancelled, closed(iface) when the interface's last handle is
 * closed. Each runs on the thread that called into kernel32. */
EXPORT void standin_set_callbacks(forward_fn forward, cancel_fn cancel, closed_fn closed) {
  pthread_mutex_lock(&standin_lock);
  g_forward = forward;
  g_cancel = cancel;
  g_closed = closed;
  pthread_mutex_unlock(&standin_lock);
}

/** The driver completes request `token` with a Win32 status and byte count. Returns 0, or -1 for a
 * token that is not pending (a second completion, or a stale token): counted, never applied. */
EXPORT int32_t standin_complete(uint32_t token, DWORD status, DWORD bytes) {
  pthread_mutex_lock(&standin_lock);
  request *r = request_by_token(token);
  if (!r || (r->state != R_PENDING && r->state != R_CANCELLING)) {
    pthread_mutex_unlock(&standin_lock);
    STAT_ADD(ST_BAD_COMPLETIONS, 1);
    return -1;
  }
  r->status = status;
  r->bytes = bytes;
  STAT_ADD(ST_COMPLETIONS, 1);
  if (r->in_dispatch) {
    r->state = R_DONE_SYNC;
    pthread_mutex_unlock(&standin_lock);
    return 0;
  }
  r->state = R_COMPLETING;
  pthread_mutex_unlock(&standin_lock);
  if (__atomic_load_n(&completion_inline, __ATOMIC_RELAXED)) deliver(r);
  else queue_completion(r);
  return 0;
}

/** 1 (default): completions are written and posted by the stand-in's completion thread, so they
 * race with everything on the JS thread. 0: by the thread that completes the request (the JS
 * thread), as a driver completing an IRP queues the packet in its own context on Windows; the
 * benchmark uses it to measure koffi and the harvester without the stand-in's extra hop. */
EXPORT void standin_set_completion_thread(int32_t on) {
  __atomic_store_n(&completion_inline, !on, __ATOMIC_RELAXED);
}

/** Delays every asynchronous completion by `us` microseconds on the completion thread (widens
 * the window in which cancellation races completion). */
EXPORT void standin_set_completion_delay_us(uint32_t us) {
  __atomic_store_n(&completion_delay_us, us, __ATOMIC_RELAXED);
}

/** The thread that posts a completion stays in the stand-in `us` microseconds after posting it,
 * as a thread preempted there would: whatever it still held would outlive the harvest. */
EXPORT void standin_set_completion_linger_us(uint32_t us) {
  __atomic_store_n(&completion_linger_us, us, __ATOMIC_RELAXED);
}

/** Copies up to `n` counters (the ST_* order of standin.h) into `out`. */
EXPORT void standin_stats(uint32_t *out, uint32_t n) {
  for (uint32_t i = 0; i < n && i < ST_COUNT; i++) out[i] = __atomic_load_n(&standin_counters[i], __ATOMIC_RELAXED);
}
