/*
 * The throughput host of benchmarks/ffs-throughput.sh: libusb inside the end-to-end VM, keeping
 * `depth` bulk transfers of `bytes` each in flight (the async API: usbfs queues them all), in
 * one direction, against a gadget that sinks (out) or sources (in) data without checking it.
 *
 *   usb-host-bench <label> out|in <MiB> <depth> <bytes>
 * prints "bench <label> <out|in> <MiB/s> MiB/s (<n> MiB in <s> s, depth <d>, <bytes> B)".
 */
#include "../test/e2e/host-device.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_DEPTH 64
static long long queued, completed, total;
static int failed, in_flight;

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

static void LIBUSB_CALL done(struct libusb_transfer *t) {
  in_flight--;
  if (t->status != LIBUSB_TRANSFER_COMPLETED) { fprintf(stderr, "bench: transfer status %d\n", t->status); failed = 1; return; }
  completed += t->actual_length;
  if (queued < total && !failed) {  /* keep the queue full: resubmit at once */
    queued += t->length;
    if (libusb_submit_transfer(t) == 0) in_flight++;
    else failed = 1;
  }
}

int main(int argc, char **argv) {
  if (argc < 6) { fprintf(stderr, "usage: %s <label> out|in <MiB> <depth> <bytes>\n", argv[0]); return 2; }
  int out = !strcmp(argv[2], "out"), depth = atoi(argv[4]), bytes = atoi(argv[5]);
  total = atoll(argv[3]) << 20;
  if (depth < 1 || depth > MAX_DEPTH || bytes < 1) { fprintf(stderr, "bad depth or size\n"); return 2; }
  int r = open_device();
  if (r) { fprintf(stderr, "bench: no device: %s\n", libusb_error_name(r)); return 1; }
  struct libusb_transfer *t[MAX_DEPTH];
  double start = now();
  for (int i = 0; i < depth && queued < total; i++) {
    unsigned char *buf = malloc(bytes);
    memset(buf, 0x5a, bytes);
    t[i] = libusb_alloc_transfer(0);
    libusb_fill_bulk_transfer(t[i], dev, out ? ep_out : ep_in, buf, bytes, done, NULL, 20000);
    queued += bytes;
    if (libusb_submit_transfer(t[i]) == 0) in_flight++;
    else failed = 1;
  }
  while (in_flight > 0) libusb_handle_events(ctx);
  double seconds = now() - start;
  printf("bench %s %s %.1f MiB/s (%lld MiB in %.2f s, depth %d, %d B)\n", argv[1], argv[2],
         completed / seconds / 1048576, completed >> 20, seconds, depth, bytes);
  return failed;
}
