/*
 * The instant native transport: a bus with nothing on it that takes time. On a device interface
 * switched to it (standin_set_instant), every bulk transfer - TRANSFER_IN,
 * TRANSFER_IN_APPEND_ZERO_PKT or TRANSFER_OUT on any pipe but the control pipe (0) - completes
 * inside dispatch, in C, with its whole buffer: a sink for what the device sends (TRANSFER_IN) and
 * a source for what it receives (TRANSFER_OUT: the buffer is filled with the interface's fill
 * byte, or left as it is). No JS runs for these requests: what a benchmark then measures over
 * koffi is koffi, the I/O manager's part (ioctl.c: request, completion packet, status block at
 * dequeue) and usbfn's JS, with no stand-in forwarding in between, which Windows does not have.
 * Everything else (activation, bus events, setup packets and their answers, pipe state, the
 * control pipe) still goes to the interface's JS driver, so the device enumerates as usual.
 */
#include <string.h>

#include "standin.h"

#define TRANSFER_IN 0x0022C00Du
#define TRANSFER_IN_APPEND_ZERO_PKT 0x0022C011u
#define TRANSFER_OUT 0x0022C016u
#define PIPE_ID_SIZE 4u /* USBFNPIPEID: a ULONG */

static struct {
  int on;
  int fill; /* 0..255, or -1: TRANSFER_OUT leaves the buffer as it is */
  uint32_t counts[4]; /* transfers in, bytes in, transfers out, bytes out (wrapping) */
} instant[STANDIN_MAX_IFACES];

int standin_instant_transfer(uint32_t iface, DWORD code, const void *in, DWORD in_len, void *out, DWORD out_len,
                             DWORD *bytes) {
  if (iface == 0 || iface > STANDIN_MAX_IFACES || !instant[iface - 1].on) return 0;
  int sends = code == TRANSFER_IN || code == TRANSFER_IN_APPEND_ZERO_PKT;
  if (!sends && code != TRANSFER_OUT) return 0;
  uint32_t pipe = 0;
  if (!in || in_len < PIPE_ID_SIZE) return 0; /* malformed: the JS driver answers it as it would */
  memcpy(&pipe, in, sizeof pipe);
  if (pipe == 0) return 0;
  uint32_t *c = instant[iface - 1].counts;
  if (sends) {
    c[0]++;
    c[1] += out_len;
  } else {
    if (out && instant[iface - 1].fill >= 0) memset(out, instant[iface - 1].fill, out_len);
    c[2]++;
    c[3] += out_len;
  }
  *bytes = out_len;
  return 1;
}

/** Switches interface `id` to the instant transport (on != 0) or back to its JS driver. `fill`:
 * the byte each TRANSFER_OUT buffer is filled with, or -1 to leave it untouched. Returns 0, or -1
 * for an id out of range. */
EXPORT int32_t standin_set_instant(uint32_t id, int32_t on, int32_t fill) {
  if (id == 0 || id > STANDIN_MAX_IFACES || fill < -1 || fill > 255) return -1;
  pthread_mutex_lock(&standin_lock);
  instant[id - 1].on = on != 0;
  instant[id - 1].fill = fill;
  pthread_mutex_unlock(&standin_lock);
  return 0;
}

/** Copies interface `id`'s instant transfer counts into out[0..3]: transfers and bytes sent by
 * the device (TRANSFER_IN), transfers and bytes received (TRANSFER_OUT), each wrapping at 2^32. */
EXPORT void standin_instant_counts(uint32_t id, uint32_t *out) {
  pthread_mutex_lock(&standin_lock);
  for (int i = 0; i < 4; i++) out[i] = id >= 1 && id <= STANDIN_MAX_IFACES ? instant[id - 1].counts[i] : 0;
  pthread_mutex_unlock(&standin_lock);
}
