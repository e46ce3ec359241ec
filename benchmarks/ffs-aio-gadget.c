/*
 * The C reference peer for usbfn's FunctionFS backend: a minimal FunctionFS gadget driving its
 * bulk endpoints through Linux AIO (io_submit / io_getevents, raw syscalls, no libaio), with a
 * configurable number of requests in flight. Built by test/e2e/setup.sh with cc; run inside the
 * end-to-end VM both as the device the host checks talk to and as the baseline the usbfn
 * throughput is compared with (benchmarks/ffs-throughput.sh).
 *
 *   ffs-aio-gadget <ffs mount> [echo|sink|source] [depth] [request bytes] [ready file]
 *
 * Device: one vendor interface, bulk IN 0x81 + bulk OUT 0x01 (64 / 512 / 1024 bytes at full /
 * high / super speed). echo: every completed OUT request comes back as one IN transfer, ended
 * by a zero-length packet when its length is a multiple of wMaxPacketSize (so 0 bytes echo as a
 * ZLP), i.e. the host sees its own transfer boundaries. sink / source: throughput, no checking.
 * Control requests (class or vendor, recipient interface): 0x01 store the OUT data stage (up to
 * 4096 bytes), 0x02 return what was stored (IN, at most wLength), 0x03 halt bulk IN from the
 * device side; anything else is stalled (on FunctionFS only I/O in the wrong direction stalls).
 */
#define _GNU_SOURCE
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/aio_abi.h>
#include <linux/usb/ch9.h>
#include <linux/usb/functionfs.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#if __BYTE_ORDER != __LITTLE_ENDIAN
#error FunctionFS blobs are little-endian; this file writes them natively
#endif
#define MAX_DEPTH 64
#define CTRL_MAX 4096
enum { REQ_STORE = 1, REQ_LOAD = 2, REQ_HALT_IN = 3 };

typedef struct usb_endpoint_descriptor_no_audio ep_desc;
typedef struct usb_interface_descriptor if_desc;
static const struct {
  struct usb_functionfs_descs_head_v2 head;
  uint32_t fs_count, hs_count, ss_count;
  struct { if_desc intf; ep_desc in, out; } __attribute__((packed)) fs, hs;
  struct { if_desc intf; ep_desc in; struct usb_ss_ep_comp_descriptor in_comp;
           ep_desc out; struct usb_ss_ep_comp_descriptor out_comp; } __attribute__((packed)) ss;
} __attribute__((packed)) descriptors = {
  .head = { .magic = FUNCTIONFS_DESCRIPTORS_MAGIC_V2, .length = sizeof descriptors,
            .flags = FUNCTIONFS_HAS_FS_DESC | FUNCTIONFS_HAS_HS_DESC | FUNCTIONFS_HAS_SS_DESC },
  .fs_count = 3, .hs_count = 3, .ss_count = 5,
#define INTF { .bLength = USB_DT_INTERFACE_SIZE, .bDescriptorType = USB_DT_INTERFACE, \
    .bNumEndpoints = 2, .bInterfaceClass = USB_CLASS_VENDOR_SPEC, .iInterface = 1 }
#define EP(addr, mps) { .bLength = USB_DT_ENDPOINT_SIZE, .bDescriptorType = USB_DT_ENDPOINT, \
    .bEndpointAddress = (addr), .bmAttributes = USB_ENDPOINT_XFER_BULK, .wMaxPacketSize = (mps) }
#define COMP { .bLength = USB_DT_SS_EP_COMP_SIZE, .bDescriptorType = USB_DT_SS_ENDPOINT_COMP }
  .fs = { INTF, EP(0x81, 64), EP(0x01, 64) },
  .hs = { INTF, EP(0x81, 512), EP(0x01, 512) },
  .ss = { INTF, EP(0x81, 1024), COMP, EP(0x01, 1024), COMP },
};
#define IFACE_NAME "usbfn e2e reference"
static const struct {
  struct usb_functionfs_strings_head head;
  uint16_t lang;
  char str[sizeof IFACE_NAME];
} __attribute__((packed)) strings = {
  .head = { .magic = FUNCTIONFS_STRINGS_MAGIC, .length = sizeof strings, .str_count = 1, .lang_count = 1 },
  .lang = 0x0409, .str = IFACE_NAME,
};

static int ep0, ep_in, ep_out, depth = 4;
static size_t req_size = 1088 * 1024; /* > 1 MiB: a 1 MiB host transfer ends inside one request */
static const char *mode = "echo";
static aio_context_t aio;
static volatile unsigned mps = 512;

static void die(const char *what) { perror(what); exit(1); }

/* wMaxPacketSize of the bulk endpoints at the speed the UDC runs at (FunctionFS reports none). */
static unsigned speed_mps(void) {
  char buf[64] = "";
  FILE *f = popen("cat /sys/class/udc/*/current_speed 2>/dev/null | head -1", "r");
  if (f) { if (!fgets(buf, sizeof buf, f)) buf[0] = 0; pclose(f); }
  return strstr(buf, "super") ? 1024 : strstr(buf, "full") ? 64 : 512;
}

/* ---- ep0: events and the control requests */
static uint8_t stored[CTRL_MAX];
static size_t stored_len;

static void stall(const struct usb_ctrlrequest *s) {
  uint8_t b;  /* I/O against the data stage's direction is FunctionFS's way to stall */
  if (s->bRequestType & USB_DIR_IN) { if (read(ep0, &b, 0) >= 0) fprintf(stderr, "gadget: stall not taken\n"); }
  else if (write(ep0, &b, 0) >= 0) fprintf(stderr, "gadget: stall not taken\n");
}

static void on_setup(const struct usb_ctrlrequest *s) {
  unsigned type = s->bRequestType & USB_TYPE_MASK, len = le16toh(s->wLength);
  int in = s->bRequestType & USB_DIR_IN;
  if ((type != USB_TYPE_CLASS && type != USB_TYPE_VENDOR) || len > CTRL_MAX) return stall(s);
  if (s->bRequest == REQ_STORE && !in) {
    ssize_t n = read(ep0, stored, len);
    stored_len = n > 0 ? (size_t)n : 0;
  } else if (s->bRequest == REQ_LOAD && in) {
    if (write(ep0, stored, stored_len < len ? stored_len : len) < 0) perror("gadget: ep0 write");
  } else if (s->bRequest == REQ_HALT_IN && !in && len == 0) {
    uint8_t b;
    if (read(ep0, &b, 0) < 0) perror("gadget: ep0 ack");
    if (read(ep_in, &b, 1) >= 0 || errno != EBADMSG) fprintf(stderr, "gadget: halt IN not taken\n");
  } else {
    stall(s);
  }
}

static void ep0_loop(void) {
  static const char *names[] = { "BIND", "UNBIND", "ENABLE", "DISABLE", "SETUP", "SUSPEND", "RESUME" };
  for (;;) {
    struct usb_functionfs_event ev[4];
    ssize_t n = read(ep0, ev, sizeof ev);
    if (n < 0) { if (errno == EINTR) continue; die("gadget: ep0 read"); }
    for (size_t i = 0; i < (size_t)n / sizeof ev[0]; i++) {
      fprintf(stderr, "gadget: %s\n", ev[i].type < 7 ? names[ev[i].type] : "?");
      if (ev[i].type == FUNCTIONFS_ENABLE) mps = speed_mps();
      if (ev[i].type == FUNCTIONFS_SETUP) on_setup(&ev[i].u.setup);
    }
  }
}

/* ---- data: `depth` slots, each a buffer cycling READ -> WRITE (+ ZLP) -> READ in echo mode */
enum stage { READING, WRITING, WRITING_ZLP };
struct slot { struct iocb cb, zlp; enum stage stage; uint8_t *buf; };
static struct slot slots[MAX_DEPTH];

static void prep(struct iocb *cb, struct slot *s, int fd, int op, size_t len) {
  memset(cb, 0, sizeof *cb);
  cb->aio_data = (uintptr_t)s; cb->aio_fildes = fd; cb->aio_lio_opcode = op;
  cb->aio_buf = (uintptr_t)s->buf; cb->aio_nbytes = len;
}

static void submit(struct iocb **cbs, long n) {
  while (n > 0) {  /* blocks while the endpoints are disabled (FunctionFS waits for ENABLE) */
    long r = syscall(SYS_io_submit, aio, n, cbs);
    if (r < 0) { if (errno == EINTR || errno == EAGAIN || errno == ESHUTDOWN) { usleep(10000); continue; } die("gadget: io_submit"); }
    cbs += r; n -= r;
  }
}

static void start(struct slot *s) {
  struct iocb *cbs[1] = { &s->cb };
  int source = !strcmp(mode, "source");
  s->stage = source ? WRITING : READING;
  prep(&s->cb, s, source ? ep_in : ep_out, source ? IOCB_CMD_PWRITE : IOCB_CMD_PREAD, req_size);
  submit(cbs, 1);
}

static void echo_back(struct slot *s, size_t n) {
  struct iocb *cbs[2] = { &s->cb, &s->zlp };
  s->stage = WRITING;
  prep(&s->cb, s, ep_in, IOCB_CMD_PWRITE, n);
  if (n % mps == 0) {  /* a ZLP after n bytes (with no bytes, the ZLP alone) */
    prep(&s->zlp, s, ep_in, IOCB_CMD_PWRITE, 0);
    s->stage = WRITING_ZLP;
    if (n == 0) { cbs[0] = &s->zlp; submit(cbs, 1); return; }
    submit(cbs, 2);
    return;
  }
  submit(cbs, 1);
}

static void completed(struct slot *s, struct iocb *cb, long res) {
  if (res < 0 && res != -ESHUTDOWN && res != -ECONNRESET)
    fprintf(stderr, "gadget: request failed: %s\n", strerror((int)-res));
  if (strcmp(mode, "echo")) return start(s);
  if (s->stage == READING) return res >= 0 ? echo_back(s, (size_t)res) : start(s);
  if (s->stage == WRITING_ZLP && cb == &s->cb && res >= 0) return;  /* its ZLP still to come */
  start(s);
}

static void *data_loop(void *arg) {
  (void)arg;
  for (int i = 0; i < depth; i++) start(&slots[i]);
  for (;;) {
    struct io_event ev[MAX_DEPTH * 2];
    long n = syscall(SYS_io_getevents, aio, 1, MAX_DEPTH * 2, ev, NULL);
    if (n < 0) { if (errno == EINTR) continue; die("gadget: io_getevents"); }
    for (long i = 0; i < n; i++)
      completed((struct slot *)(uintptr_t)ev[i].data, (struct iocb *)(uintptr_t)ev[i].obj, (long)ev[i].res);
  }
  return NULL;
}

static int open_ep(const char *dir, const char *name) {
  char path[512];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  int fd = open(path, O_RDWR);
  if (fd < 0) die(path);
  return fd;
}

int main(int argc, char **argv) {
  if (argc < 2) { fprintf(stderr, "usage: %s <ffs dir> [echo|sink|source] [depth] [bytes] [ready file]\n", argv[0]); return 2; }
  if (argc > 2) mode = argv[2];
  if (argc > 3) depth = atoi(argv[3]);
  if (argc > 4) req_size = strtoul(argv[4], NULL, 0);
  if (depth < 1 || depth > MAX_DEPTH || req_size == 0) { fprintf(stderr, "bad depth or size\n"); return 2; }
  ep0 = open_ep(argv[1], "ep0");
  if (write(ep0, &descriptors, sizeof descriptors) < 0) die("gadget: descriptors");
  if (write(ep0, &strings, sizeof strings) < 0) die("gadget: strings");
  ep_in = open_ep(argv[1], "ep1");
  ep_out = open_ep(argv[1], "ep2");
  if (syscall(SYS_io_setup, MAX_DEPTH * 2, &aio) < 0) die("gadget: io_setup");
  for (int i = 0; i < depth; i++) {
    slots[i].buf = aligned_alloc(4096, (req_size + 4095) & ~(size_t)4095);
    if (!slots[i].buf) die("gadget: buffer");
    memset(slots[i].buf, 0xa5, req_size);
  }
  if (argc > 5) close(open(argv[5], O_CREAT | O_WRONLY, 0644));
  fprintf(stderr, "gadget: ready (%s, depth %d, %zu-byte requests)\n", mode, depth, req_size);
  pthread_t t;
  pthread_create(&t, NULL, data_loop, NULL);
  ep0_loop();
}
