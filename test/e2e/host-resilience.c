/* What happens to a stream when the link goes away under it: the host resets the device, the
 * gadget is unbound and rebound from its UDC, the gadget process is killed and restarted. Each
 * time the transfer caught in the middle must fail (never hang, never complete with stale data)
 * and the stream then resumes byte-exact. */
#include "host-checks.h"
#include <unistd.h>

#define MID_TRANSFER (64 << 20)
struct pending { struct libusb_transfer *t; int complete; unsigned char *buf; };

static void LIBUSB_CALL pending_done(struct libusb_transfer *t) { ((struct pending *)t->user_data)->complete = 1; }

/* Starts an asynchronous bulk transfer the event loop finishes later. */
static int start(struct pending *p, unsigned char ep, int len) {
  p->buf = malloc(len);
  fill_random(p->buf, len);
  p->complete = 0;
  p->t = libusb_alloc_transfer(0);
  libusb_fill_bulk_transfer(p->t, dev, ep, p->buf, len, pending_done, p, TIMEOUT_MS);
  int r = libusb_submit_transfer(p->t);
  p->complete = r != 0;  /* nothing to wait for */
  return r;
}

/* Waits for it to end (a hang guard bounds it), returns its status and frees it. */
static int finish(struct pending *p, int *actual) {
  struct timeval tv = { 1, 0 };
  for (int i = 0; i < 60 && !p->complete; i++) libusb_handle_events_timeout_completed(ctx, &tv, &p->complete);
  if (!p->complete && libusb_cancel_transfer(p->t) == 0) { while (!p->complete) libusb_handle_events_completed(ctx, &p->complete); }
  int status = p->t->status;
  *actual = p->t->actual_length;
  libusb_free_transfer(p->t);
  free(p->buf);
  return status;
}

static void check_resumes(const char *name) {
  char why[160] = "";
  int r = open_device();
  if (r) {
    CHECK(0, name, "device did not come back: %s", libusb_error_name(r));
    return;
  }
  int e = echo(4 * mps, why, sizeof why);
  if (!e) e = echo(mps + 1, why, sizeof why);
  if (!e) e = echo(1 << 20, why, sizeof why);
  CHECK(e == 0, name, "%s", why);
}

static void check_reset(void) {
  char why[160] = "";
  int e = echo(3 * mps, why, sizeof why);
  int r = libusb_reset_device(dev);
  CHECK(e == 0 && (r == 0 || r == LIBUSB_ERROR_NOT_FOUND), "host resets the device between transfers",
        "echo before: %s; reset: %s", e ? why : "ok", libusb_error_name(r));
  if (r == 0) libusb_claim_interface(dev, 0);
  check_resumes("after the reset the stream resumes byte-exact");
  if (dev) check_quiet("no stale packet after the reset");
}

/* A pending IN read (the device has nothing to send) is the transfer caught mid-stream. */
static void check_link_loss(const char *what, const char *command_env) {
  char name[128];
  const char *command = getenv(command_env);
  snprintf(name, sizeof name, "%s: the pending IN transfer fails", what);
  if (!command) { CHECK(0, name, "$%s not set", command_env); return; }
  char why[160] = "";
  int e = echo(mps, why, sizeof why);
  struct pending in;
  int r = start(&in, ep_in, 64 * 1024);
  if (system(command) != 0) fprintf(stderr, "host: '%s' failed\n", command);
  int actual = 0, status = finish(&in, &actual);
  CHECK(e == 0 && r == 0 && status != LIBUSB_TRANSFER_COMPLETED && status != LIBUSB_TRANSFER_TIMED_OUT,
        name, "echo before: %s; submit %s; status %d with %d bytes", e ? why : "ok", libusb_error_name(r), status, actual);
  snprintf(name, sizeof name, "%s: the stream resumes byte-exact", what);
  check_resumes(name);
}

/* The gadget is killed while a big OUT transfer is half way: the device stops reading. */
static void check_killed_mid_transfer(void) {
  const char *command = getenv("E2E_RESTART");
  if (!command) { CHECK(0, "gadget killed mid-transfer", "$E2E_RESTART not set"); return; }
  struct pending out;
  /* far more than a gadget buffers while the host does not read (guest.sh raises usbfs's limit) */
  int r = start(&out, ep_out, MID_TRANSFER);
  struct timeval tv = { 0, 300000 };
  libusb_handle_events_timeout_completed(ctx, &tv, &out.complete);
  if (system(command) != 0) fprintf(stderr, "host: '%s' failed\n", command);
  int actual = 0, status = finish(&out, &actual);

  CHECK(r == 0 && status != LIBUSB_TRANSFER_COMPLETED && status != LIBUSB_TRANSFER_TIMED_OUT && actual < MID_TRANSFER,
        "gadget killed mid-transfer: the OUT transfer fails part way", "submit %s; status %d after %d bytes",
        libusb_error_name(r), status, actual);
  check_resumes("gadget restarted: the stream resumes byte-exact");
  if (dev) check_quiet("no stale packet from before the restart");
}

void run_resilience(void) {
  check_reset();
  if (dev) check_link_loss("gadget unbound and rebound", "E2E_REBIND");
  if (dev) check_killed_mid_transfer();
}
