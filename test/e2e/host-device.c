/* Finding and opening the device under test: shared by the host checks and the throughput host
 * (benchmarks/usb-host-bench.c). */
#include "host-device.h"
#include <unistd.h>

libusb_context *ctx;
libusb_device_handle *dev;
unsigned char ep_in, ep_out;

/* Opens the device once it appears (after a bind, a reset or a restart), claiming interface 0.
 * Debian's libusb learns of new devices from udevd, which the VM does not run: a context made
 * afterwards enumerates sysfs afresh, so each attempt uses a new one. */
int open_device(void) {
  if (dev) { libusb_close(dev); dev = NULL; }
  for (int tries = 0; tries < 600 && !dev; tries++) {
    if (!ctx && libusb_init(&ctx)) return LIBUSB_ERROR_OTHER;
    dev = libusb_open_device_with_vid_pid(ctx, VID, PID);
    if (!dev) { libusb_exit(ctx); ctx = NULL; usleep(50000); }
  }
  if (!dev) return LIBUSB_ERROR_NO_DEVICE;
  struct libusb_config_descriptor *cfg;
  int r = libusb_get_active_config_descriptor(libusb_get_device(dev), &cfg);
  if (r) return r;
  ep_in = ep_out = 0;
  const struct libusb_interface_descriptor *i = cfg->interface[0].altsetting;
  for (int k = 0; k < i->bNumEndpoints; k++) {
    unsigned char a = i->endpoint[k].bEndpointAddress;
    if ((i->endpoint[k].bmAttributes & 3) == LIBUSB_TRANSFER_TYPE_BULK) *(a & 0x80 ? &ep_in : &ep_out) = a;
  }
  libusb_free_config_descriptor(cfg);
  return libusb_claim_interface(dev, 0);
}

