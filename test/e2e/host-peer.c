/*
 * A scriptable USB host for the end-to-end VM: the far end of test/e2e/vm-host.ts, through which
 * usbfn's driver contract suite (test/contract/) runs against the kernel's host stack. It opens
 * the device (host-device.c), prints "ready <ep_in> <ep_out> <speed>", then serves one request a
 * line from stdin, several in flight, each answered on stdout when it ends (in any order):
 *   <id> in <ep> <length>                                        -> <id> ok <hex>
 *   <id> out <ep> <zlp 0|1> <hex>                                -> <id> ok <count>
 *   <id> ctrl <type> <request> <value> <index> <length> <hex> <timeout ms> -> <id> ok <hex>
 *   <id> clear <ep>                                              -> <id> ok -
 *   <id> status <ep>  (GET_STATUS: the halt bit)                 -> <id> ok <0|1>
 * Numbers are decimal, "-" is no data. A failure answers "<id> err <STALL|TIMEOUT|...> <bytes>".
 * End of stdin ends the program (and with it every transfer still pending).
 */
#include "host-device.h"
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;

struct request { long id; int is_control; };

static void put_hex(const unsigned char *b, int n) {
  if (n <= 0) { fputc('-', stdout); return; }
  for (int i = 0; i < n; i++) printf("%02x", b[i]);
}

static int from_hex(const char *s, unsigned char *out, int max) {
  if (!strcmp(s, "-")) return 0;
  int n = 0;
  for (; s[0] && s[1] && n < max; s += 2) { unsigned v; sscanf(s, "%2x", &v); out[n++] = (unsigned char)v; }
  return n;
}

static const char *status_name(int status) {
  switch (status) {
    case LIBUSB_TRANSFER_STALL: return "STALL";
    case LIBUSB_TRANSFER_TIMED_OUT: return "TIMEOUT";
    case LIBUSB_TRANSFER_NO_DEVICE: return "NO_DEVICE";
    case LIBUSB_TRANSFER_CANCELLED: return "CANCELLED";
    case LIBUSB_TRANSFER_OVERFLOW: return "OVERFLOW";
    default: return "ERROR";
  }
}

static void LIBUSB_CALL done(struct libusb_transfer *t) {
  struct request *r = t->user_data;
  unsigned char *data = r->is_control ? libusb_control_transfer_get_data(t) : t->buffer;
  int in = r->is_control ? (t->buffer[0] & 0x80) : (t->endpoint & 0x80);
  pthread_mutex_lock(&out_lock);
  if (t->status != LIBUSB_TRANSFER_COMPLETED) printf("%ld err %s %d", r->id, status_name(t->status), t->actual_length);
  else if (in) { printf("%ld ok ", r->id); put_hex(data, t->actual_length); }
  else printf("%ld ok %d", r->id, t->actual_length);
  fputc('\n', stdout);
  fflush(stdout);
  pthread_mutex_unlock(&out_lock);
  free(t->buffer);
  free(r);
  libusb_free_transfer(t);
}

static void answer(long id, int rc, const char *what) {
  pthread_mutex_lock(&out_lock);
  if (rc < 0) printf("%ld err %s 0\n", id, rc == LIBUSB_ERROR_PIPE ? "STALL" : libusb_error_name(rc));
  else printf("%ld ok %s\n", id, what);
  fflush(stdout);
  pthread_mutex_unlock(&out_lock);
}

static void submit(long id, struct libusb_transfer *t, int is_control) {
  struct request *r = malloc(sizeof *r);
  r->id = id;
  r->is_control = is_control;
  t->user_data = r;
  int rc = libusb_submit_transfer(t);
  if (rc) { answer(id, rc, ""); free(t->buffer); free(r); libusb_free_transfer(t); }
}

static void bulk(long id, unsigned ep, int length, int zlp, const char *hex) {
  unsigned char *b = malloc(length > 0 ? length : 1);
  if (!(ep & 0x80)) length = from_hex(hex, b, length);
  struct libusb_transfer *t = libusb_alloc_transfer(0);
  libusb_fill_bulk_transfer(t, dev, (unsigned char)ep, b, length, done, NULL, 0);
  if (zlp) t->flags = LIBUSB_TRANSFER_ADD_ZERO_PACKET;
  submit(id, t, 0);
}

static void control(long id, const char *args) {
  unsigned type, req, value, index, length, timeout;
  char hex[2 * 65536 + 2];
  if (sscanf(args, "%u %u %u %u %u %131073s %u", &type, &req, &value, &index, &length, hex, &timeout) != 7) { answer(id, LIBUSB_ERROR_INVALID_PARAM, ""); return; }
  unsigned char *b = calloc(1, LIBUSB_CONTROL_SETUP_SIZE + length);
  libusb_fill_control_setup(b, type, req, value, index, length);
  if (!(type & 0x80)) from_hex(hex, b + LIBUSB_CONTROL_SETUP_SIZE, length);
  struct libusb_transfer *t = libusb_alloc_transfer(0);
  libusb_fill_control_transfer(t, dev, b, done, NULL, timeout);
  submit(id, t, 1);
}

static void *events(void *unused) {
  (void)unused;
  for (;;) libusb_handle_events(ctx);
  return NULL;
}

static void serve(char *line) {
  long id;
  char cmd[16];
  int used = 0;
  if (sscanf(line, "%ld %15s %n", &id, cmd, &used) < 2) return;
  const char *args = line + used;
  unsigned ep = 0;
  int length = 0, zlp = 0;
  if (!strcmp(cmd, "in") && sscanf(args, "%u %d", &ep, &length) == 2) bulk(id, ep, length, 0, "-");
  else if (!strcmp(cmd, "out") && sscanf(args, "%u %d", &ep, &zlp) == 2) {
    const char *hex = strrchr(args, ' ') + 1;
    bulk(id, ep, strcmp(hex, "-") ? (int)strlen(hex) / 2 : 0, zlp, hex);
  } else if (!strcmp(cmd, "ctrl")) control(id, args);
  else if (!strcmp(cmd, "clear") && sscanf(args, "%u", &ep) == 1) answer(id, libusb_clear_halt(dev, (unsigned char)ep), "-");
  else if (!strcmp(cmd, "status") && sscanf(args, "%u", &ep) == 1) {
    unsigned char s[2] = { 0, 0 };
    int rc = libusb_control_transfer(dev, LIBUSB_ENDPOINT_IN | LIBUSB_RECIPIENT_ENDPOINT, LIBUSB_REQUEST_GET_STATUS, 0, ep, s, 2, 5000);
    answer(id, rc < 0 ? rc : 0, s[0] & 1 ? "1" : "0");
  } else answer(id, LIBUSB_ERROR_INVALID_PARAM, "");
}

int main(void) {
  int r = open_device();
  if (r) { printf("error %s\n", libusb_error_name(r)); return 1; }
  int speed = libusb_get_device_speed(libusb_get_device(dev));
  printf("ready %u %u %s\n", ep_in, ep_out, speed == LIBUSB_SPEED_SUPER ? "super" : speed == LIBUSB_SPEED_HIGH ? "high" : "full");
  fflush(stdout);
  pthread_t thread;
  pthread_create(&thread, NULL, events, NULL);
  char *line = NULL;
  size_t cap = 0;
  ssize_t n;
  while ((n = getline(&line, &cap, stdin)) > 0) {
    if (line[n - 1] == '\n') line[n - 1] = 0;
    serve(line);
  }
  return 0;
}
