/* The device under test as the host sees it (host-device.c). */
#ifndef HOST_DEVICE_H
#define HOST_DEVICE_H
#include <libusb-1.0/libusb.h>

#define VID 0x1d6b
#define PID 0x0104

extern libusb_context *ctx;
extern libusb_device_handle *dev;
/* The bulk endpoints' addresses as the host sees them: the UDC's, not necessarily the gadget's
 * (on dummy_hcd FunctionFS turns the gadget's 0x01 into 0x02). */
extern unsigned char ep_in, ep_out;

/* Waits (up to ~30 s) for the device, opens it, finds its bulk endpoints, claims interface 0. */
int open_device(void);
#endif
