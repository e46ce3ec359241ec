/*
 * cfgmgr32 device interface lists: CM_Get_Device_Interface_List_SizeW / CM_Get_Device_Interface_ListW
 * (a UTF-16 multi-string of symbolic links, CR_BUFFER_SMALL when the list grew between the two
 * calls). Interfaces are added and removed by tests (standin_add_interface /
 * standin_remove_interface); notify.c delivers the arrival/removal notifications.
 */
#include <stdlib.h>
#include <string.h>

#include "standin.h"

#define CM_GET_DEVICE_INTERFACE_LIST_ALL_DEVICES 1u

#define MAX_IFACES STANDIN_MAX_IFACES /* ids are never reused: a stale handle must not reach a new interface */
#define LINK_CHARS 256
static struct { int used, present, handles, query; GUID guid; WCHAR link[LINK_CHARS]; } ifaces[MAX_IFACES];
enum { QUERY_NONE = -2, QUERY_PENDING = -1, QUERY_REMOVED = 0, QUERY_VETOED = 1 }; /* ifaces[].query - 2 */
static struct { GUID guid; WCHAR link[LINK_CHARS]; int armed; } race;

static size_t wlen(const WCHAR *s) { size_t n = 0; while (s[n]) n++; return n; }
static WCHAR wlower(WCHAR c) { return c >= 'A' && c <= 'Z' ? (WCHAR)(c + 32) : c; }

static int wieq(const WCHAR *a, const WCHAR *b) { /* symbolic links compare case-insensitively */
  while (*a && wlower(*a) == wlower(*b)) a++, b++;
  return wlower(*a) == wlower(*b);
}

uint32_t standin_interface_by_link(const WCHAR *link) {
  for (uint32_t i = 0; i < MAX_IFACES; i++)
    if (ifaces[i].used && ifaces[i].present && wieq(ifaces[i].link, link)) return i + 1;
  return 0;
}

static uint32_t add_interface(const GUID *g, const WCHAR *link) {
  if (!g || !link || wlen(link) >= LINK_CHARS) return 0;
  pthread_mutex_lock(&standin_lock);
  uint32_t i = 0;
  while (i < MAX_IFACES && ifaces[i].used) i++;
  if (i < MAX_IFACES) {
    ifaces[i].used = ifaces[i].present = 1;
    ifaces[i].guid = *g;
    memcpy(ifaces[i].link, link, (wlen(link) + 1) * sizeof(WCHAR));
  }
  pthread_mutex_unlock(&standin_lock);
  if (i == MAX_IFACES) return 0;
  standin_queue_event(ACTION_ARRIVAL, g, link);
  return i + 1;
}

int standin_interface_handles(uint32_t iface, int delta) {
  if (iface == 0 || iface > MAX_IFACES) return 0;
  return ifaces[iface - 1].handles += delta;
}

/** Test hook: a device interface appears (arrival notifications follow). Returns its id, 0 on error. */
EXPORT uint32_t standin_add_interface(const GUID *g, const WCHAR *link) { return add_interface(g, link); }

/** Test hook: interface `id` disappears (removal notifications follow). Returns 0, or -1 if unknown. */
EXPORT int32_t standin_remove_interface(uint32_t id) {
  pthread_mutex_lock(&standin_lock);
  int ok = id >= 1 && id <= MAX_IFACES && ifaces[id - 1].used && ifaces[id - 1].present;
  GUID g;
  WCHAR link[LINK_CHARS];
  if (ok) {
    ifaces[id - 1].present = 0;
    g = ifaces[id - 1].guid;
    memcpy(link, ifaces[id - 1].link, sizeof link);
  }
  pthread_mutex_unlock(&standin_lock);
  if (!ok) return -1;
  standin_queue_event(ACTION_REMOVAL, &g, link);
  return 0;
}

/** Test hook: the PnP manager queries removal of interface `id` (a driver update, a disable). The
 * outcome arrives later: standin_query_remove_result. Returns 0, or -1 if `id` is not present. */
EXPORT int32_t standin_query_remove(uint32_t id) {
  pthread_mutex_lock(&standin_lock);
  int ok = id >= 1 && id <= MAX_IFACES && ifaces[id - 1].used && ifaces[id - 1].present;
  if (ok) ifaces[id - 1].query = QUERY_PENDING + 2;
  pthread_mutex_unlock(&standin_lock);
  if (!ok) return -1;
  standin_queue_query_remove(id);
  return 0;
}

/** The last query-remove of `id`: -1 still running, 0 removed, 1 vetoed, -2 none. */
EXPORT int32_t standin_query_remove_result(uint32_t id) {
  if (id < 1 || id > MAX_IFACES) return QUERY_NONE;
  pthread_mutex_lock(&standin_lock);
  int q = ifaces[id - 1].query - 2;
  pthread_mutex_unlock(&standin_lock);
  return q;
}

void standin_query_remove_done(uint32_t iface, int vetoed) {
  if (!vetoed) standin_remove_interface(iface);
  pthread_mutex_lock(&standin_lock);
  ifaces[iface - 1].query = (vetoed ? QUERY_VETOED : QUERY_REMOVED) + 2;
  pthread_mutex_unlock(&standin_lock);
}

/** Test hook: the next size query is followed at once by this interface's arrival, so the list
 * call that follows finds the list grew (CR_BUFFER_SMALL), as a real arrival can make it. */
EXPORT void standin_arm_list_race(const GUID *g, const WCHAR *link) {
  pthread_mutex_lock(&standin_lock);
  race.guid = *g;
  memcpy(race.link, link, (wlen(link) + 1) * sizeof(WCHAR));
  race.armed = 1;
  pthread_mutex_unlock(&standin_lock);
}

static int listed(uint32_t i, const GUID *g, ULONG flags) {
  return ifaces[i].used && (ifaces[i].present || (flags & CM_GET_DEVICE_INTERFACE_LIST_ALL_DEVICES)) &&
         memcmp(&ifaces[i].guid, g, sizeof *g) == 0;
}

static CONFIGRET check_list_args(const GUID *g, const WCHAR *device_id, ULONG flags) {
  if (!g) return CR_INVALID_POINTER;
  if (flags & ~CM_GET_DEVICE_INTERFACE_LIST_ALL_DEVICES) return CR_INVALID_FLAG;
  if (device_id && *device_id) return CR_INVALID_DEVICE_ID; /* per-device lists: not needed by usbfn */
  return CR_SUCCESS;
}

/* Characters the multi-string needs, final extra NUL included (1 for an empty list). Locked. */
static ULONG list_chars(const GUID *g, ULONG flags) {
  ULONG n = 1;
  for (uint32_t i = 0; i < MAX_IFACES; i++) if (listed(i, g, flags)) n += (ULONG)wlen(ifaces[i].link) + 1;
  return n;
}

EXPORT CONFIGRET WINAPI CM_Get_Device_Interface_List_SizeW(ULONG *len, GUID *g, WCHAR *device_id, ULONG flags) {
  CONFIGRET cr = len ? check_list_args(g, device_id, flags) : CR_INVALID_POINTER;
  if (cr != CR_SUCCESS) return cr;
  pthread_mutex_lock(&standin_lock);
  *len = list_chars(g, flags);
  int fire = race.armed;
  race.armed = 0;
  pthread_mutex_unlock(&standin_lock);
  if (fire) add_interface(&race.guid, race.link);
  return CR_SUCCESS;
}

EXPORT CONFIGRET WINAPI CM_Get_Device_Interface_ListW(GUID *g, WCHAR *device_id, WCHAR *buffer, ULONG buffer_len,
                                                      ULONG flags) {
  CONFIGRET cr = buffer && buffer_len ? check_list_args(g, device_id, flags) : CR_INVALID_POINTER;
  if (cr != CR_SUCCESS) return cr;
  pthread_mutex_lock(&standin_lock);
  if (list_chars(g, flags) > buffer_len) {
    pthread_mutex_unlock(&standin_lock);
    buffer[0] = 0;
    return CR_BUFFER_SMALL;
  }
  WCHAR *w = buffer;
  for (uint32_t i = 0; i < MAX_IFACES; i++) {
    if (!listed(i, g, flags)) continue;
    size_t n = wlen(ifaces[i].link) + 1;
    memcpy(w, ifaces[i].link, n * sizeof(WCHAR));
    w += n;
  }
  *w = 0;
  pthread_mutex_unlock(&standin_lock);
  return CR_SUCCESS;
}
