/*
 * CM_Register_Notification / CM_Unregister_Notification for device interface arrival and removal
 * (CM_NOTIFY_FILTER_TYPE_DEVICEINTERFACE) and for the device behind an open handle
 * (CM_NOTIFY_FILTER_TYPE_DEVICEHANDLE): a query-remove (standin_query_remove) asks each handle
 * registration (CM_NOTIFY_ACTION_DEVICEQUERYREMOVE); any that returns non-zero, or any handle
 * still open on the interface afterwards, vetoes it (DEVICEQUERYREMOVEFAILED follows), as an
 * open handle vetoes query-remove on Windows; else DEVICEREMOVECOMPLETE follows and the
 * interface goes away.
 * As on Windows, callbacks run on a thread of the stand-in's own (here: one notifier thread),
 * never the registering thread, and CM_Unregister_Notification waits until callbacks in progress
 * have returned. koffi runs a JS callback called from a foreign thread on the main thread and
 * blocks the foreign thread meanwhile, so a JS caller that blocked its main thread in a synchronous
 * CM_Unregister_Notification while a callback waits for that thread would deadlock. The stand-in
 * lets that happen, as Windows would, so a test proves the koffi code avoids it.
 */
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "standin.h"

#define CM_NOTIFY_FILTER_FLAG_ALL_INTERFACE_CLASSES 1u
#define CM_NOTIFY_FILTER_TYPE_DEVICEINTERFACE 0u
#define CM_NOTIFY_FILTER_TYPE_DEVICEHANDLE 1u

typedef struct {
  DWORD cbSize, Flags, FilterType, Reserved;
  union {
    struct { GUID ClassGuid; } DeviceInterface;
    struct { HANDLE hTarget; } DeviceHandle;
    struct { WCHAR InstanceId[200]; } DeviceInstance; /* MAX_DEVICE_ID_LEN */
  } u;
} CM_NOTIFY_FILTER;

typedef DWORD (WINAPI *notify_cb)(void *notify, void *context, DWORD action, void *data, DWORD size);

#define MAX_REGS 256
static struct { int used, closing, busy, all; uint32_t iface; GUID guid; void *context; notify_cb cb; } regs[MAX_REGS];
static pthread_cond_t regs_idle = PTHREAD_COND_INITIALIZER; /* signalled as each callback returns */

typedef struct event { DWORD action; GUID guid; WCHAR *link; uint32_t iface; struct event *next; } event;
static pthread_mutex_t ev_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t ev_cond = PTHREAD_COND_INITIALIZER;
static event *ev_head, *ev_tail;
static pthread_t notifier;
static pthread_once_t notifier_once = PTHREAD_ONCE_INIT;

static void *reg_handle(int i) { return (void *)(uintptr_t)(0x1000 + i * 16); }
static int reg_slot(void *h) {
  uintptr_t v = (uintptr_t)h;
  return v >= 0x1000 && (v - 0x1000) % 16 == 0 && (v - 0x1000) / 16 < MAX_REGS ? (int)((v - 0x1000) / 16) : -1;
}

/* CM_NOTIFY_EVENT_DATA for an interface: FilterType, Reserved, ClassGuid, SymbolicLink[] at 24. */
static uint8_t *event_data(const event *e, DWORD *size) {
  size_t chars = 0;
  while (e->link[chars]) chars++;
  *size = (DWORD)(24 + (chars + 1) * sizeof(WCHAR));
  uint8_t *d = calloc(1, *size);
  if (!d) return NULL;
  memcpy(d + 8, &e->guid, sizeof e->guid);
  memcpy(d + 24, e->link, (chars + 1) * sizeof(WCHAR));
  return d;
}

static uint32_t busy_us; /* standin_set_notifier_busy_us */

/* Keeps the notifier thread running stand-in code for `us` (yielding the CPU), as a notification
 * that takes a while to deliver does: widens the window in which the process may end under it. */
static void stay_busy(uint32_t us) {
  struct timespec now, end;
  clock_gettime(CLOCK_MONOTONIC, &end);
  end.tv_sec += us / 1000000;
  end.tv_nsec += (long)(us % 1000000) * 1000L;
  if (end.tv_nsec >= 1000000000L) { end.tv_sec++; end.tv_nsec -= 1000000000L; }
  do {
    sched_yield();
    clock_gettime(CLOCK_MONOTONIC, &now);
  } while (now.tv_sec < end.tv_sec || (now.tv_sec == end.tv_sec && now.tv_nsec < end.tv_nsec));
}

/** Test hook: the notifier thread stays busy `us` microseconds before delivering each event. */
EXPORT void standin_set_notifier_busy_us(uint32_t us) { __atomic_store_n(&busy_us, us, __ATOMIC_RELAXED); }

static DWORD call_registration(int i, notify_cb cb, void *context, DWORD action, void *data, DWORD size);
static void query_remove(uint32_t iface);

/* Calls each matching registration's callback without the lock, marked busy meanwhile. */
static void deliver_event(const event *e) {
  uint32_t us = __atomic_load_n(&busy_us, __ATOMIC_RELAXED);
  if (us) stay_busy(us);
  if (e->action == ACTION_QUERYREMOVE) return query_remove(e->iface);
  DWORD size;
  uint8_t *data = event_data(e, &size);
  for (int i = 0; data && i < MAX_REGS; i++) {
    pthread_mutex_lock(&standin_lock);
    int match = regs[i].used && !regs[i].closing && !regs[i].iface &&
                (regs[i].all || memcmp(&regs[i].guid, &e->guid, sizeof e->guid) == 0);
    notify_cb cb = regs[i].cb;
    void *context = regs[i].context;
    if (match) regs[i].busy++;
    pthread_mutex_unlock(&standin_lock);
    if (!match) continue;
    call_registration(i, cb, context, e->action, data, size);
  }
  free(data);
}

/* CM_NOTIFY_EVENT_DATA for a device handle: FilterType, Reserved, then DeviceHandle { EventGuid,
 * NameOffset (-1: no name), DataSize (0), Data[1] } padded to 4. */
#define HANDLE_EVENT_SIZE 36u

/* Calls registration i (marked busy by the caller) and returns what its callback returned. */
static DWORD call_registration(int i, notify_cb cb, void *context, DWORD action, void *data, DWORD size) {
  STAT_ADD(ST_CALLBACKS_RUNNING, 1);
  DWORD ret = cb(reg_handle(i), context, action, data, size);
  STAT_ADD(ST_CALLBACKS_RUNNING, -1);
  STAT_ADD(ST_NOTIFICATIONS_DELIVERED, 1);
  pthread_mutex_lock(&standin_lock);
  regs[i].busy--;
  pthread_cond_broadcast(&regs_idle);
  pthread_mutex_unlock(&standin_lock);
  return ret;
}

/* Tells every handle registration on `iface` of `action`; returns how many answered non-zero. */
static int deliver_handle_action(uint32_t iface, DWORD action) {
  uint8_t data[HANDLE_EVENT_SIZE] = { 0 };
  data[0] = CM_NOTIFY_FILTER_TYPE_DEVICEHANDLE;
  memset(data + 24, 0xff, 4); /* NameOffset -1 */
  int refusals = 0;
  for (int i = 0; i < MAX_REGS; i++) {
    pthread_mutex_lock(&standin_lock);
    int match = regs[i].used && !regs[i].closing && regs[i].iface == iface;
    notify_cb cb = regs[i].cb;
    void *context = regs[i].context;
    if (match) regs[i].busy++;
    pthread_mutex_unlock(&standin_lock);
    if (match) refusals += call_registration(i, cb, context, action, data, HANDLE_EVENT_SIZE) != ERROR_SUCCESS;
  }
  return refusals;
}

/* A query-remove, as the PnP manager runs it: ask, then count the handles still open. */
static void query_remove(uint32_t iface) {
  int refused = deliver_handle_action(iface, ACTION_QUERYREMOVE);
  pthread_mutex_lock(&standin_lock);
  int open = standin_interface_handles(iface, 0);
  pthread_mutex_unlock(&standin_lock);
  int vetoed = refused > 0 || open > 0;
  deliver_handle_action(iface, vetoed ? ACTION_QUERYREMOVEFAILED : ACTION_REMOVECOMPLETE);
  standin_query_remove_done(iface, vetoed);
}

static void *notifier_main(void *arg) {
  (void)arg;
  for (;;) {
    pthread_mutex_lock(&ev_lock);
    while (!ev_head) pthread_cond_wait(&ev_cond, &ev_lock);
    event *e = ev_head;
    ev_head = e->next;
    if (!ev_head) ev_tail = NULL;
    pthread_mutex_unlock(&ev_lock);
    deliver_event(e);
    free(e->link); /* NULL for a query-remove */
    free(e);
  }
  return NULL;
}

static void start_notifier(void) {
  pthread_create(&notifier, NULL, notifier_main, NULL);
  pthread_detach(notifier);
}

static void enqueue(event *e) {
  pthread_once(&notifier_once, start_notifier);
  pthread_mutex_lock(&ev_lock);
  if (ev_tail) ev_tail->next = e; else ev_head = e;
  ev_tail = e;
  pthread_cond_signal(&ev_cond);
  pthread_mutex_unlock(&ev_lock);
}

void standin_queue_event(DWORD action, const GUID *g, const WCHAR *link) {
  size_t chars = 0;
  while (link[chars]) chars++;
  event *e = calloc(1, sizeof *e);
  WCHAR *copy = malloc((chars + 1) * sizeof(WCHAR));
  if (!e || !copy) { free(e); free(copy); return; }
  memcpy(copy, link, (chars + 1) * sizeof(WCHAR));
  *e = (event){ action, *g, copy, 0, NULL };
  enqueue(e);
}

void standin_queue_query_remove(uint32_t iface) {
  event *e = calloc(1, sizeof *e);
  if (!e) return;
  e->action = ACTION_QUERYREMOVE;
  e->iface = iface;
  enqueue(e);
}

EXPORT CONFIGRET WINAPI CM_Register_Notification(CM_NOTIFY_FILTER *filter, void *context, notify_cb cb, void **out) {
  if (!filter || !cb || !out) return CR_INVALID_POINTER;
  int by_handle = filter->FilterType == CM_NOTIFY_FILTER_TYPE_DEVICEHANDLE;
  if (filter->cbSize != sizeof(CM_NOTIFY_FILTER) || (filter->FilterType != CM_NOTIFY_FILTER_TYPE_DEVICEINTERFACE && !by_handle) ||
      (filter->Flags & ~(by_handle ? 0 : CM_NOTIFY_FILTER_FLAG_ALL_INTERFACE_CLASSES)) || filter->Reserved)
    return CR_INVALID_DATA;
  pthread_once(&notifier_once, start_notifier);
  pthread_mutex_lock(&standin_lock);
  uint32_t iface = by_handle ? standin_handle_interface(filter->u.DeviceHandle.hTarget) : 0;
  if (by_handle && !iface) {
    pthread_mutex_unlock(&standin_lock);
    return CR_INVALID_DATA; /* not an open device handle */
  }
  int i = 0;
  while (i < MAX_REGS && (regs[i].used || regs[i].busy)) i++;
  if (i < MAX_REGS) {
    regs[i].used = 1;
    regs[i].closing = 0;
    regs[i].all = !by_handle && (filter->Flags & CM_NOTIFY_FILTER_FLAG_ALL_INTERFACE_CLASSES);
    regs[i].iface = iface;
    if (!by_handle) regs[i].guid = filter->u.DeviceInterface.ClassGuid;
    regs[i].context = context;
    regs[i].cb = cb;
    STAT_ADD(ST_REGISTRATIONS, 1);
  }
  pthread_mutex_unlock(&standin_lock);
  if (i == MAX_REGS) return CR_FAILURE;
  *out = reg_handle(i);
  return CR_SUCCESS;
}

EXPORT CONFIGRET WINAPI CM_Unregister_Notification(void *h) {
  int i = reg_slot(h);
  /* From inside a callback this would wait for itself: Windows documents a deadlock, we refuse. */
  if (pthread_equal(pthread_self(), notifier)) return CR_FAILURE;
  pthread_mutex_lock(&standin_lock);
  if (i < 0 || !regs[i].used || regs[i].closing) {
    pthread_mutex_unlock(&standin_lock);
    return CR_INVALID_DATA;
  }
  regs[i].closing = 1;
  while (regs[i].busy) pthread_cond_wait(&regs_idle, &standin_lock);
  regs[i].used = 0;
  STAT_ADD(ST_REGISTRATIONS, -1);
  pthread_mutex_unlock(&standin_lock);
  return CR_SUCCESS;
}
