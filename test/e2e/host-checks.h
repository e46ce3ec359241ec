/* Shared by the end-to-end host checks (host-checks.c, host-basic.c, host-resilience.c). */
#ifndef HOST_CHECKS_H
#define HOST_CHECKS_H
#include "host-device.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TIMEOUT_MS 20000 /* a hang guard only: a loaded 2-core host runs this VM slowly */
/* the device's control requests (class or vendor, recipient interface 0) */
enum { REQ_STORE = 1, REQ_LOAD = 2, REQ_HALT_IN = 3, REQ_UNKNOWN = 0x7f };

extern const char *speed_name;
extern int mps, failures;

void report(int ok, const char *name, const char *why);
#define CHECK(cond, name, ...) do { char why_[256]; snprintf(why_, sizeof why_, __VA_ARGS__); \
    report(!!(cond), name, why_); } while (0)
void fill_random(unsigned char *b, size_t n);
int bulk(unsigned char ep, unsigned char *buf, int len, int *done, int zlp, unsigned timeout);
int echo(int n, char *why, size_t why_len);
void check_echo(const char *label, int n);
void check_quiet(const char *name);
void run_basic(const char *interface_name);
void run_resilience(void);
void run_device_halt(void);
void run_demo(void);
#endif
