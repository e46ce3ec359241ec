/*
 * I/O completion ports: CreateIoCompletionPort's port object, GetQueuedCompletionStatusEx and
 * PostQueuedCompletionStatus. A port is a FIFO of packets guarded by its own mutex; waiters block
 * on a condition variable (koffi runs GetQueuedCompletionStatusEx on one of its worker threads, so
 * this really blocks a thread, as on Windows). Closing the port's handle wakes every waiter with
 * ERROR_ABANDONED_WAIT_0 and drops queued packets, which is what Windows does. A request's
 * OVERLAPPED (its status block) is written when its packet is dequeued, never earlier.
 */
#include <errno.h>
#include <stdlib.h>
#include <time.h>

#include "standin.h"

typedef struct packet {
  ULONG_PTR key;
  OVERLAPPED *ov;    /* what the dequeuer gets back: the request's ApcContext, or Post's value */
  OVERLAPPED *iosb;  /* an I/O request's status block, written at dequeue; NULL for Post's packets */
  ULONG_PTR internal;
  DWORD bytes;
  struct packet *next;
} packet;

struct port {
  pthread_mutex_t m;
  pthread_cond_t c;
  packet *head, *tail;
  int closed;
  int refs;
};

port *standin_port_new(void) {
  port *p = calloc(1, sizeof *p);
  if (!p) return NULL;
  pthread_condattr_t attr;
  pthread_condattr_init(&attr);
  pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
  pthread_mutex_init(&p->m, NULL);
  pthread_cond_init(&p->c, &attr);
  pthread_condattr_destroy(&attr);
  p->refs = 1;
  STAT_ADD(ST_PORTS_ALIVE, 1);
  return p;
}

void standin_port_ref(port *p) {
  pthread_mutex_lock(&p->m);
  p->refs++;
  pthread_mutex_unlock(&p->m);
}

static void drop_packets(port *p) {
  while (p->head) {
    packet *k = p->head;
    p->head = k->next;
    free(k);
    STAT_ADD(ST_PACKETS_DROPPED, 1);
  }
  p->tail = NULL;
}

static void port_free(port *p) {
  drop_packets(p);
  pthread_cond_destroy(&p->c);
  pthread_mutex_destroy(&p->m);
  free(p);
  STAT_ADD(ST_PORTS_ALIVE, -1);
}

void standin_port_unref(port *p) {
  pthread_mutex_lock(&p->m);
  int last = --p->refs == 0;
  pthread_mutex_unlock(&p->m);
  if (last) port_free(p);
}

int standin_port_post(port *p, ULONG_PTR key, OVERLAPPED *ov, OVERLAPPED *iosb, ULONG_PTR internal, DWORD bytes) {
  packet *k = malloc(sizeof *k);
  pthread_mutex_lock(&p->m);
  int queued = k && !p->closed;
  if (queued) {
    *k = (packet){ key, ov, iosb, internal, bytes, NULL };
    if (p->tail) p->tail->next = k; else p->head = k;
    p->tail = k;
    /* Counted before the packet is visible: counted after the unlock, a harvester could dequeue
     * (and count) it first, and a test sampling in between sees one packet too few posted. */
    STAT_ADD(ST_PACKETS_POSTED, 1);
    pthread_cond_signal(&p->c);
  } else if (k) {
    STAT_ADD(ST_PACKETS_DROPPED, 1);
  }
  /* The poster's reference goes in the same critical section that makes the packet visible: a
   * poster preempted after the unlock must not keep the port alive after its handle is closed by
   * whoever dequeued the packet (which made "the port went with the last device" flaky). */
  int last = --p->refs == 0;
  pthread_mutex_unlock(&p->m);
  if (!queued) free(k);
  if (last) port_free(p);
  return queued;
}

void standin_port_close(port *p) {
  pthread_mutex_lock(&p->m);
  p->closed = 1;
  drop_packets(p);
  pthread_cond_broadcast(&p->c);
  pthread_mutex_unlock(&p->m);
}

int standin_port_holds(port *p, OVERLAPPED *ov) {
  pthread_mutex_lock(&p->m);
  packet *k = p->head;
  while (k && k->ov != ov && k->iosb != ov) k = k->next;
  pthread_mutex_unlock(&p->m);
  return k != NULL;
}

/* An I/O request's status block is written by the thread that dequeues its packet, not when the
 * request completes (IoRemoveIoCompletion copies the IRP's IoStatus to the caller's block): until
 * then a caller reading OVERLAPPED.Internal sees STATUS_PENDING. Bytes first, then the status with
 * release order, so a reader that sees the status also sees the count. */
static void write_status_block(const packet *k) {
  if (!k->iosb) return;
  k->iosb->InternalHigh = k->bytes;
  __atomic_store_n(&k->iosb->Internal, k->internal, __ATOMIC_RELEASE);
}

static port *port_from_handle(HANDLE h) {
  pthread_mutex_lock(&standin_lock);
  port *p = standin_handle_get(h, H_PORT);
  if (p) standin_port_ref(p); /* a waiter holds the object even if the handle closes meanwhile */
  pthread_mutex_unlock(&standin_lock);
  return p;
}

/* Waits (caller holds p->m) until a packet, a close or the timeout. Returns 0 on timeout. */
static int wait_for_packet(port *p, DWORD timeout_ms) {
  if (timeout_ms == 0) return p->head || p->closed; /* a poll: never enter the kernel */
  if (timeout_ms == INFINITE) {
    while (!p->head && !p->closed) pthread_cond_wait(&p->c, &p->m);
    return 1;
  }
  struct timespec deadline;
  clock_gettime(CLOCK_MONOTONIC, &deadline);
  deadline.tv_sec += timeout_ms / 1000;
  deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
  if (deadline.tv_nsec >= 1000000000L) { deadline.tv_sec++; deadline.tv_nsec -= 1000000000L; }
  while (!p->head && !p->closed) {
    if (pthread_cond_timedwait(&p->c, &p->m, &deadline) == ETIMEDOUT) return p->head || p->closed;
  }
  return 1;
}

EXPORT BOOL WINAPI GetQueuedCompletionStatusEx(HANDLE port_handle, OVERLAPPED_ENTRY *entries, ULONG count,
                                               ULONG *removed, DWORD timeout_ms, BOOL alertable) {
  (void)alertable; /* no APCs in the stand-in: an alertable wait behaves like a plain one */
  if (!entries || !removed || count == 0) { standin_set_last_error(ERROR_INVALID_PARAMETER); return FALSE; }
  port *p = port_from_handle(port_handle);
  if (!p) { standin_set_last_error(ERROR_INVALID_HANDLE); return FALSE; }
  pthread_mutex_lock(&p->m);
  int got = wait_for_packet(p, timeout_ms);
  ULONG n = 0;
  DWORD err = ERROR_SUCCESS;
  if (p->closed) err = ERROR_ABANDONED_WAIT_0;
  else if (!got || !p->head) err = WAIT_TIMEOUT;
  else {
    while (p->head && n < count) {
      packet *k = p->head;
      p->head = k->next;
      entries[n++] = (OVERLAPPED_ENTRY){ k->key, k->ov, k->internal, k->bytes };
      write_status_block(k);
      free(k);
    }
    if (!p->head) p->tail = NULL;
    STAT_ADD(ST_PACKETS_DEQUEUED, n); /* under the lock too: posted - dequeued - dropped = queued */
  }
  pthread_mutex_unlock(&p->m);
  standin_port_unref(p);
  *removed = n;
  if (err != ERROR_SUCCESS) { standin_set_last_error(err); return FALSE; }
  return TRUE;
}

EXPORT BOOL WINAPI PostQueuedCompletionStatus(HANDLE port_handle, DWORD bytes, ULONG_PTR key, OVERLAPPED *ov) {
  port *p = port_from_handle(port_handle);
  if (!p) { standin_set_last_error(ERROR_INVALID_HANDLE); return FALSE; }
  int ok = standin_port_post(p, key, ov, NULL, 0, bytes); /* never touches *ov: it is just a value; drops our reference */
  if (!ok) { standin_set_last_error(ERROR_INVALID_HANDLE); return FALSE; }
  return TRUE;
}
