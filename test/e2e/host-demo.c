/* The host checks of examples/echo-device.ts, the example device the README's quick starts run
 * (unchanged on the emulator and on FunctionFS): its class requests and its byte-stream echo. */
#include "host-checks.h"

enum { GET_VERSION = 0x01, SET_ECHO_LENGTH = 0x02, PING = 0x03, UNSUPPORTED = 0x7f };
#define CLASS_IN (LIBUSB_ENDPOINT_IN | LIBUSB_REQUEST_TYPE_CLASS | LIBUSB_RECIPIENT_INTERFACE)
#define CLASS_OUT (LIBUSB_ENDPOINT_OUT | LIBUSB_REQUEST_TYPE_CLASS | LIBUSB_RECIPIENT_INTERFACE)

static void check_class_requests(void) {
  unsigned char b[64] = "";
  int r = libusb_control_transfer(dev, CLASS_IN, GET_VERSION, 0, 0, b, 63, TIMEOUT_MS);
  CHECK(r == 14 && !memcmp(b, "usbfn demo 1.0", 14), "demo: GET_VERSION answers 'usbfn demo 1.0'", "%s (%d) '%s'",
        r < 0 ? libusb_error_name(r) : "length", r, b);
  r = libusb_control_transfer(dev, CLASS_OUT, PING, 0, 0, NULL, 0, TIMEOUT_MS);
  CHECK(r == 0, "demo: PING is acknowledged", "%s", libusb_error_name(r));
  r = libusb_control_transfer(dev, CLASS_IN, UNSUPPORTED, 0, 0, b, 8, TIMEOUT_MS);
  CHECK(r == LIBUSB_ERROR_PIPE, "demo: an unsupported class request is stalled", "got %s (%d)", libusb_error_name(r), r);
  unsigned char length[8] = { 0, 0, 0x10, 0, 0, 0, 0, 0 };
  r = libusb_control_transfer(dev, CLASS_OUT, SET_ECHO_LENGTH, 0, 0, length, 8, TIMEOUT_MS);
  CHECK(r == 8, "demo: SET_ECHO_LENGTH takes its 8-byte data stage", "%s (%d)", r < 0 ? libusb_error_name(r) : "length", r);
}

/* A byte stream: n bytes out as one transfer, then read back until n bytes came (in any pieces). */
static void check_stream_echo(int n) {
  unsigned char *out = malloc(n), *in = malloc(n);
  int done = 0, got = 0, r;
  char name[64], why[160] = "";
  fill_random(out, n);
  r = bulk(ep_out, out, n, &done, n % mps == 0, TIMEOUT_MS);
  if (r || done != n) snprintf(why, sizeof why, "OUT: %s, %d of %d bytes", libusb_error_name(r), done, n);
  while (!r && got < n) {
    r = bulk(ep_in, in + got, n - got, &done, 0, TIMEOUT_MS);
    got += done;
    if (r) snprintf(why, sizeof why, "IN: %s after %d of %d bytes", libusb_error_name(r), got, n);
  }
  if (!r && memcmp(in, out, n)) { snprintf(why, sizeof why, "the bytes back differ from the bytes sent"); r = -99; }
  snprintf(name, sizeof name, "demo: echo of %d bytes comes back byte-exact", n);
  report(r == 0, name, why);
  free(out); free(in);
}

void run_demo(void) {
  struct libusb_config_descriptor *cfg = NULL;
  unsigned char s[64] = "";
  int r = libusb_get_active_config_descriptor(libusb_get_device(dev), &cfg);
  if (!r) r = libusb_get_string_descriptor_ascii(dev, cfg->interface[0].altsetting->iInterface, s, sizeof s);
  CHECK(r > 0 && !strcmp((char *)s, "usbfn echo"), "demo: interface string 'usbfn echo'", "%s '%s'", r < 0 ? libusb_error_name(r) : "got", s);
  if (cfg) libusb_free_config_descriptor(cfg);
  check_class_requests();
  static const int sizes[] = { 1, 100, 3 * 512 + 7, 65536, (1 << 20) + 13 };
  for (unsigned k = 0; k < sizeof sizes / sizeof *sizes; k++) check_stream_echo(sizes[k]);
  check_quiet("demo: nothing more comes back after the echoes");
}
