/*
 * The host side of the end-to-end test: libusb, run inside the VM against whichever gadget the
 * guest script started (the C reference in benchmarks/ffs-aio-gadget.c, or the usbfn one in
 * test/e2e/usbfn-gadget.ts; both implement the same device). Prints one line per check,
 * "ok <speed> <name>" or "FAIL <speed> <name>: why", which test/e2e/run.sh counts.
 *
 *   usb-host-checks <full|high|super> basic       enumeration, descriptors, echo, control, halt
 *   usb-host-checks <full|high|super> resilience  reset, unbind/rebind, gadget killed mid-transfer
 *   usb-host-checks <full|high|super> device-halt the device halts bulk IN, the host clears it
 *   usb-host-checks <full|high|super> demo        examples/echo-device.ts: class requests, echo
 * resilience runs the shell commands in $E2E_REBIND and $E2E_RESTART (given by the guest script).
 */
#include "host-checks.h"
#include <unistd.h>

const char *speed_name;
int mps, failures;

void report(int ok, const char *name, const char *why) {
  if (ok) printf("ok %s %s\n", speed_name, name);
  else { printf("FAIL %s %s: %s\n", speed_name, name, why); failures++; }
  fflush(stdout);
}

void fill_random(unsigned char *b, size_t n) { for (size_t i = 0; i < n; i++) b[i] = (unsigned char)rand(); }

static void LIBUSB_CALL bulk_done(struct libusb_transfer *t) { *(int *)t->user_data = 1; }

/* One bulk transfer, synchronous; `zlp` asks usbfs to end a whole-packet OUT with a ZLP. */
int bulk(unsigned char ep, unsigned char *buf, int len, int *done, int zlp, unsigned timeout) {
  if (!zlp) return libusb_bulk_transfer(dev, ep, buf, len, done, timeout);
  /* libusb_bulk_transfer has no flags: the async API carries LIBUSB_TRANSFER_ADD_ZERO_PACKET */
  struct libusb_transfer *t = libusb_alloc_transfer(0);
  int complete = 0;
  libusb_fill_bulk_transfer(t, dev, ep, buf, len, bulk_done, &complete, timeout);
  t->flags = LIBUSB_TRANSFER_ADD_ZERO_PACKET;
  int r = libusb_submit_transfer(t);
  while (!r && !complete) libusb_handle_events_completed(ctx, &complete);
  *done = t->actual_length;
  if (!r) r = t->status == LIBUSB_TRANSFER_COMPLETED ? 0 : t->status == LIBUSB_TRANSFER_STALL ? LIBUSB_ERROR_PIPE : LIBUSB_ERROR_IO;
  libusb_free_transfer(t);
  return r;
}

/* Sends n bytes as one transfer (ZLP-terminated when whole packets) and reads one transfer back. */
int echo(int n, char *why, size_t why_len) {
  unsigned char *out = malloc(n + 1), *in = malloc(n + 2 * mps);
  int done = 0, r;
  fill_random(out, n);
  r = bulk(ep_out, out, n, &done, n % mps == 0, TIMEOUT_MS);
  if (r || done != n) { snprintf(why, why_len, "OUT: %s, %d of %d bytes", libusb_error_name(r), done, n); goto out; }
  /* a buffer longer than n: only the device's short packet or ZLP can end this read at n */
  r = bulk(ep_in, in, n + mps, &done, 0, TIMEOUT_MS);
  if (r) snprintf(why, why_len, "IN: %s after %d bytes", libusb_error_name(r), done);
  else if (done != n) { snprintf(why, why_len, "IN transfer was %d bytes, sent %d", done, n); r = -99; }
  else if (memcmp(in, out, n)) { snprintf(why, why_len, "IN data differs from OUT data"); r = -99; }
out:
  free(out); free(in);
  return r;
}

void check_echo(const char *label, int n) {
  char name[64], why[160] = "";
  snprintf(name, sizeof name, "echo %s (%d bytes)", label, n);
  int r = echo(n, why, sizeof why);
  report(r == 0, name, why);
}

/* Nothing may follow the last echo: no stray ZLP, no duplicated data. */
void check_quiet(const char *name) {
  unsigned char b[1024];
  int done = 0, r = libusb_bulk_transfer(dev, ep_in, b, sizeof b, &done, 300);
  CHECK(r == LIBUSB_ERROR_TIMEOUT && done == 0, name, "IN returned %s with %d bytes", libusb_error_name(r), done);
}

int main(int argc, char **argv) {
  if (argc < 3) { fprintf(stderr, "usage: %s <full|high|super> basic|resilience [interface name]\n", argv[0]); return 2; }
  speed_name = argv[1];
  mps = !strcmp(speed_name, "full") ? 64 : !strcmp(speed_name, "super") ? 1024 : 512;
  srand(42);
  int r = open_device();
  CHECK(r == 0, "device enumerates and interface 0 is claimed", "%s", libusb_error_name(r));
  if (r) return 1;
  if (!strcmp(argv[2], "basic")) run_basic(argc > 3 ? argv[3] : NULL);
  else if (!strcmp(argv[2], "resilience")) run_resilience();
  else if (!strcmp(argv[2], "device-halt")) run_device_halt();
  else if (!strcmp(argv[2], "demo")) run_demo();
  if (dev) { libusb_release_interface(dev, 0); libusb_close(dev); }
  if (ctx) libusb_exit(ctx);
  return failures ? 1 : 0;
}
