/*
 * The throughput host of benchmarks/ffs-throughput.sh: libusb inside the end-to-end VM, keeping
 * `depth` bulk transfers of `bytes` each in flight (the async API: usbfs queues them all), in
 * one direction, against a gadget that sinks (out) or sources (in) data without checking it.
 *
 *   usb-host-bench <label> out|in <MiB> <depth> <bytes> [<warm-up MiB> <gadget pid>]
 * prints "bench <label> <out|in> <MiB/s> MiB/s (<n> MiB in <s> s, depth <d>, <bytes> B)".
 * With a warm-up, the first <warm-up MiB> move untimed (a JIT-compiled gadget reaches its steady
 * state: under TCG, V8 compiling the hot path costs seconds of CPU), then <MiB> are timed, and
 * "cpu <label> <dir> gadget <ms> ms for <MiB> MiB, guest busy <p>% (system <ms> ms, <n> minor faults)"
 * gives the gadget process's CPU time (all threads, user + system; of it, system), its minor page
 * faults (fresh memory) and how busy the guest's CPUs were over the timed part.
 */
#include "../test/e2e/host-device.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_DEPTH 64
static long long queued, completed, total, warmup, timed_from = -1;
static int failed, in_flight, gadget_pid;
static double start;
static long long ticks0, busy0, all0, sys0, faults0;

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

/* utime + stime (USER_HZ ticks) of the gadget, of them stime, its minor page faults, and busy /
 * all ticks of the guest's CPUs */
static void sample(long long *ticks, long long *sys, long long *faults, long long *busy, long long *all) {
  char path[64], comm[256];
  long long v[8] = {0}, u = 0, s = 0, minflt = 0;
  snprintf(path, sizeof path, "/proc/%d/stat", gadget_pid);
  FILE *f = fopen(path, "r");
  if (f && fscanf(f, "%*d (%255[^)]) %*c %*d %*d %*d %*d %*d %*u %lld %*u %*u %*u %lld %lld", comm, &minflt, &u, &s) == 4) {
    *ticks = u + s;
    *sys = s;
    *faults = minflt;
  }
  if (f) fclose(f);
  f = fopen("/proc/stat", "r");
  if (f && fscanf(f, "cpu %lld %lld %lld %lld %lld %lld %lld %lld", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]) == 8) {
    *all = v[0] + v[1] + v[2] + v[3] + v[4] + v[5] + v[6] + v[7];
    *busy = *all - v[3] - v[4];
  }
  if (f) fclose(f);
}

static void LIBUSB_CALL done(struct libusb_transfer *t) {
  in_flight--;
  if (t->status != LIBUSB_TRANSFER_COMPLETED) { fprintf(stderr, "bench: transfer status %d\n", t->status); failed = 1; return; }
  completed += t->actual_length;
  if (timed_from < 0 && completed >= warmup) {  /* warmed up: the timed part begins */
    timed_from = completed;
    start = now();
    if (gadget_pid > 0) sample(&ticks0, &sys0, &faults0, &busy0, &all0);
  }
  if (queued < total && !failed) {  /* keep the queue full: resubmit at once */
    queued += t->length;
    if (libusb_submit_transfer(t) == 0) in_flight++;
    else failed = 1;
  }
}

int main(int argc, char **argv) {
  if (argc < 6) { fprintf(stderr, "usage: %s <label> out|in <MiB> <depth> <bytes> [<warm-up MiB> <gadget pid>]\n", argv[0]); return 2; }
  int out = !strcmp(argv[2], "out"), depth = atoi(argv[4]), bytes = atoi(argv[5]);
  warmup = argc > 6 ? atoll(argv[6]) << 20 : 0;
  gadget_pid = argc > 7 ? atoi(argv[7]) : 0;
  total = warmup + (atoll(argv[3]) << 20);
  if (depth < 1 || depth > MAX_DEPTH || bytes < 1) { fprintf(stderr, "bad depth or size\n"); return 2; }
  int r = open_device();
  if (r) { fprintf(stderr, "bench: no device: %s\n", libusb_error_name(r)); return 1; }
  struct libusb_transfer *t[MAX_DEPTH];
  if (warmup == 0) {
    timed_from = 0;
    start = now();
    if (gadget_pid > 0) sample(&ticks0, &sys0, &faults0, &busy0, &all0);
  }
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
  long long moved = completed - (timed_from < 0 ? completed : timed_from), ticks1 = 0, sys1 = 0, faults1 = 0, busy1 = 0, all1 = 0;
  printf("bench %s %s %.1f MiB/s (%lld MiB in %.2f s, depth %d, %d B)\n", argv[1], argv[2],
         moved / seconds / 1048576, moved >> 20, seconds, depth, bytes);
  if (gadget_pid > 0) {
    sample(&ticks1, &sys1, &faults1, &busy1, &all1);
    printf("cpu %s %s gadget %lld ms for %lld MiB, guest busy %lld%% (system %lld ms, %lld minor faults)\n", argv[1], argv[2],
           (ticks1 - ticks0) * 10, moved >> 20, 100 * (busy1 - busy0) / (all1 - all0 + 1), (sys1 - sys0) * 10, faults1 - faults0);
  }
  return failed;
}
