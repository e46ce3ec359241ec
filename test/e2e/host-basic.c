/* The checks one boot runs at every speed dummy_hcd offers: what the host sees of the device
 * (descriptors, strings), echo across packet boundaries, control requests, stalls and halts. */
#include "host-checks.h"

static int expected_speed(void) {
  return !strcmp(speed_name, "full") ? LIBUSB_SPEED_FULL : !strcmp(speed_name, "super") ? LIBUSB_SPEED_SUPER : LIBUSB_SPEED_HIGH;
}

static void check_device_descriptor(void) {
  libusb_device *d = libusb_get_device(dev);
  struct libusb_device_descriptor dd;
  libusb_get_device_descriptor(d, &dd);
  int speed = libusb_get_device_speed(d);
  CHECK(speed == expected_speed(), "enumerates at the bus speed", "libusb speed %d, expected %d", speed, expected_speed());
  int super = expected_speed() == LIBUSB_SPEED_SUPER;
  CHECK(dd.bcdUSB >= (super ? 0x0300 : 0x0200) && dd.bNumConfigurations == 1 && dd.bDeviceClass == 0,
        "device descriptor: bcdUSB, one configuration, class per interface",
        "bcdUSB %04x, %d configurations, class %d", dd.bcdUSB, dd.bNumConfigurations, dd.bDeviceClass);
  CHECK(dd.bMaxPacketSize0 == (super ? 9 : 64), "device descriptor: EP0 max packet size", "bMaxPacketSize0 %d", dd.bMaxPacketSize0);
  unsigned char s[128] = "";
  int r = libusb_get_string_descriptor_ascii(dev, dd.iProduct, s, sizeof s);
  CHECK(r > 0 && !strcmp((char *)s, "usbfn e2e"), "product string", "%s '%s'", r < 0 ? libusb_error_name(r) : "got", s);
  r = libusb_get_string_descriptor_ascii(dev, dd.iSerialNumber, s, sizeof s);
  CHECK(r > 0 && !strcmp((char *)s, "e2e-0001"), "serial number string", "%s '%s'", r < 0 ? libusb_error_name(r) : "got", s);
  if (super) {
    struct libusb_bos_descriptor *bos = NULL;
    r = libusb_get_bos_descriptor(dev, &bos);
    CHECK(r == 0 && bos->bNumDeviceCaps >= 2, "BOS descriptor with USB 2.0 extension and SuperSpeed caps",
          "%s, %d caps", libusb_error_name(r), r == 0 ? bos->bNumDeviceCaps : -1);
    if (r == 0) libusb_free_bos_descriptor(bos);
  }
}

static void check_endpoint(const struct libusb_endpoint_descriptor *e, unsigned char dir) {
  char name[64];
  snprintf(name, sizeof name, "bulk %s endpoint: wMaxPacketSize %d", dir ? "IN" : "OUT", mps);
  int super = expected_speed() == LIBUSB_SPEED_SUPER;
  /* at SuperSpeed a companion descriptor follows every endpoint descriptor */
  int companion_ok = super ? e->extra_length >= 6 && e->extra[1] == LIBUSB_DT_SS_ENDPOINT_COMPANION : e->extra_length == 0;
  CHECK((e->bEndpointAddress & 0x80) == dir && (e->bmAttributes & 3) == LIBUSB_TRANSFER_TYPE_BULK && e->wMaxPacketSize == mps && companion_ok,
        name, "address 0x%02x, attributes %d, wMaxPacketSize %d, %d extra bytes", e->bEndpointAddress, e->bmAttributes,
        e->wMaxPacketSize, e->extra_length);
}

static void check_configuration(const char *interface_name) {
  struct libusb_config_descriptor *cfg = NULL;
  int r = libusb_get_active_config_descriptor(libusb_get_device(dev), &cfg);
  CHECK(r == 0 && cfg->bNumInterfaces == 1 && cfg->bConfigurationValue == 1, "configuration descriptor: one interface",
        "%s, %d interfaces", libusb_error_name(r), r ? -1 : cfg->bNumInterfaces);
  if (r) return;
  const struct libusb_interface_descriptor *i = cfg->interface[0].altsetting;
  CHECK(cfg->interface[0].num_altsetting == 1 && i->bInterfaceClass == 0xff && i->bNumEndpoints == 2,
        "interface descriptor: vendor class, two endpoints", "%d alt settings, class %d, %d endpoints",
        cfg->interface[0].num_altsetting, i->bInterfaceClass, i->bNumEndpoints);
  if (i->bNumEndpoints == 2) {
    int in_first = i->endpoint[0].bEndpointAddress & 0x80;
    check_endpoint(&i->endpoint[in_first ? 0 : 1], 0x80);
    check_endpoint(&i->endpoint[in_first ? 1 : 0], 0);
  }
  if (interface_name) {
    unsigned char s[128] = "";
    r = libusb_get_string_descriptor_ascii(dev, i->iInterface, s, sizeof s);
    CHECK(r > 0 && !strcmp((char *)s, interface_name), "interface string", "%s '%s'", r < 0 ? libusb_error_name(r) : "got", s);
  }
  unsigned char value = 0;
  r = libusb_control_transfer(dev, 0x80, LIBUSB_REQUEST_GET_CONFIGURATION, 0, 0, &value, 1, TIMEOUT_MS);
  CHECK(r == 1 && value == 1, "GET_CONFIGURATION answers 1", "%s, value %d", r < 0 ? libusb_error_name(r) : "ok", value);
  libusb_free_config_descriptor(cfg);
}

static void check_echoes(void) {
  check_echo("nothing: a lone ZLP", 0);
  check_echo("one byte", 1);
  check_echo("mps-1", mps - 1);
  check_echo("mps, ZLP-terminated", mps);
  check_echo("mps+1", mps + 1);
  check_echo("3*mps, ZLP-terminated", 3 * mps);
  check_echo("64 KiB, ZLP-terminated", 65536);
  check_echo("1 MiB, ZLP-terminated", 1 << 20);
  check_echo("1 MiB-1", (1 << 20) - 1);
  check_quiet("no stray packet after the echoes");
}

/* STORE then LOAD through one request type; the data stage of `n` bytes both ways. */
static void check_control_round_trip(const char *type, unsigned char req_type, int n) {
  static unsigned char out[4096], in[4096];
  char name[96];
  snprintf(name, sizeof name, "%s request: OUT data stage of %d bytes, then IN of %d", type, n, n);
  fill_random(out, n);
  int w = libusb_control_transfer(dev, req_type | LIBUSB_ENDPOINT_OUT, REQ_STORE, 0, 0, out, n, TIMEOUT_MS);
  int r = libusb_control_transfer(dev, req_type | LIBUSB_ENDPOINT_IN, REQ_LOAD, 0, 0, in, n, TIMEOUT_MS);
  CHECK(w == n && r == n && !memcmp(in, out, n), name, "OUT %s, IN %s", w < 0 ? libusb_error_name(w) : "ok",
        r < 0 ? libusb_error_name(r) : "ok");
}

static void check_control(const char *type, unsigned char req_type) {
  static const int sizes[] = { 0, 1, 64, 65, 4096 };
  for (unsigned k = 0; k < sizeof sizes / sizeof *sizes; k++) check_control_round_trip(type, req_type, sizes[k]);
  unsigned char buf[4096];
  char name[96];
  /* a reply shorter than wLength and a multiple of EP0's packet size needs a ZLP from the device */
  libusb_control_transfer(dev, req_type | LIBUSB_ENDPOINT_OUT, REQ_STORE, 0, 0, buf, 64, TIMEOUT_MS);
  int r = libusb_control_transfer(dev, req_type | LIBUSB_ENDPOINT_IN, REQ_LOAD, 0, 0, buf, sizeof buf, TIMEOUT_MS);
  snprintf(name, sizeof name, "%s request: 64-byte reply to wLength 4096 ends short", type);
  CHECK(r == 64, name, "%s (%d)", r < 0 ? libusb_error_name(r) : "length", r);
  snprintf(name, sizeof name, "%s request: unknown IN request is stalled", type);
  r = libusb_control_transfer(dev, req_type | LIBUSB_ENDPOINT_IN, REQ_UNKNOWN, 0, 0, buf, 8, TIMEOUT_MS);
  CHECK(r == LIBUSB_ERROR_PIPE, name, "got %s (%d)", libusb_error_name(r), r);
  snprintf(name, sizeof name, "%s request: unknown OUT request is stalled", type);
  r = libusb_control_transfer(dev, req_type | LIBUSB_ENDPOINT_OUT, REQ_UNKNOWN, 0, 0, buf, 8, TIMEOUT_MS);
  CHECK(r == LIBUSB_ERROR_PIPE, name, "got %s (%d)", libusb_error_name(r), r);
  check_control_round_trip(type, req_type, 65);  /* EP0 works again after the stalls */
}

static void check_halts(void) {
  char why[160] = "";
  unsigned char b[1024];
  int done = 0;
  for (int k = 0; k < 2; k++) {
    unsigned char ep = k ? ep_out : ep_in;
    char name[96];
    int r = libusb_control_transfer(dev, LIBUSB_RECIPIENT_ENDPOINT, LIBUSB_REQUEST_SET_FEATURE, 0, ep, NULL, 0, TIMEOUT_MS);
    int t = bulk(ep, b, ep == ep_in ? mps : 1, &done, 0, TIMEOUT_MS);
    snprintf(name, sizeof name, "host halts 0x%02x: transfers stall", ep);
    CHECK(r == 0 && t == LIBUSB_ERROR_PIPE, name, "SET_FEATURE %s, transfer %s", libusb_error_name(r), libusb_error_name(t));
    r = libusb_clear_halt(dev, ep);
    int e = echo(mps + 3, why, sizeof why);
    snprintf(name, sizeof name, "clear halt 0x%02x: echo flows again", ep);
    CHECK(r == 0 && e == 0, name, "clear_halt %s; %s", libusb_error_name(r), why);
  }
  check_quiet("no stray packet after the halts");
}

/* The device halts bulk IN itself (a class request makes it call pipe.stall('in')); the host
 * clears the halt, as a class protocol would, and the echo must flow again without the device
 * being told (FunctionFS never tells it: the UDC handles CLEAR_FEATURE). Run last in a boot:
 * a device that kept holding IN would spoil every check after it. */
void run_device_halt(void) {
  char why[160] = "";
  unsigned char b[1024];
  int done = 0;
  int r = libusb_control_transfer(dev, LIBUSB_REQUEST_TYPE_VENDOR | LIBUSB_RECIPIENT_INTERFACE, REQ_HALT_IN, 0, 0, NULL, 0, TIMEOUT_MS);
  int t = bulk(ep_in, b, mps, &done, 0, TIMEOUT_MS);
  CHECK(r == 0 && t == LIBUSB_ERROR_PIPE, "device halts bulk IN: the host's IN transfer stalls",
        "request %s, transfer %s", libusb_error_name(r), libusb_error_name(t));
  r = libusb_clear_halt(dev, ep_in);
  int e = echo(2 * mps, why, sizeof why);
  CHECK(r == 0 && e == 0, "host clears the device's halt: echo flows again", "clear_halt %s; %s", libusb_error_name(r), why);
  check_quiet("no stray packet after the device's halt");
}

void run_basic(const char *interface_name) {
  check_device_descriptor();
  check_configuration(interface_name);
  check_echoes();
  check_control("class", LIBUSB_REQUEST_TYPE_CLASS | LIBUSB_RECIPIENT_INTERFACE);
  check_control("vendor", LIBUSB_REQUEST_TYPE_VENDOR | LIBUSB_RECIPIENT_INTERFACE);
  check_halts();
}
