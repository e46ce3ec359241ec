/*
 * usbfn-broker.sys: a WDM driver that knows nothing of GenericUSBFn. It brokers IRPs between an
 * application handle and a user-mode "server" that answers them (the TypeScript emulator), so the
 * library's Win32 layer talks to a real I/O manager (Wine's) while GenericUSBFn's semantics stay
 * in one place: lib/driver/emulator.
 *
 * Devices, per channel n (0..CHANNELS-1, so concurrent processes can each have their own):
 *   \\.\UsbFnBroker<n>        opened by the library as it would open GenericUSBFn's interface.
 *   \\.\UsbFnBrokerServer<n>  opened once by the server.
 * Every IOCTL on an application handle is pended (with a cancel routine) and queued as an event;
 * the server's GET IOCTLs are answered with events: {kind, id, file, code, inLen, outLen,
 * dataLen, seq} then the input bytes and, for METHOD_IN_DIRECT, the bytes of the caller's output
 * buffer (read through its MDL). COMPLETE {id, status, bytes} + data fills that IRP's buffers as
 * its code's transfer method says (METHOD_BUFFERED: the system buffer; METHOD_OUT_DIRECT: the
 * MDL; METHOD_IN_DIRECT: nothing) and completes it, Information clamped to the output length.
 *
 * Cancellation: an IRP the server has not seen is completed STATUS_CANCELLED by its cancel
 * routine; one the server holds is reported to it (EV_CANCEL) and the server completes it, so
 * "completed with data" and "cancelled" stay one atomic decision of the emulator, as they are of
 * a real driver (completing it here would lose data the emulator had already taken from the host).
 * IRP_MJ_CLEANUP / IRP_MJ_CLOSE of an application file object complete its IRPs STATUS_CANCELLED
 * (Wine sends no CLEANUP, and CLOSE may come with IRPs still pending). Closing the server handle
 * completes everything STATUS_DEVICE_NOT_CONNECTED and later requests fail at once with it.
 * FAIL_NEXT {code, status} makes the next application IOCTL with that code complete inside
 * dispatch with that status: a synchronous error completion, which queues no completion packet.
 *
 * Wine runs every dispatch and cancel routine on one thread (ntoskrnl's main loop); the cancel
 * spin lock is still taken where a Windows driver must take it.
 *
 * Built by test/wine/setup.sh with x86_64-w64-mingw32-gcc, never by npm install.
 */
#include <ntddk.h>

#define CHANNELS 10 /* one decimal digit in the device names */
#define SLOTS 1024
#define EVENTS 4096
#define GETS 64
#define HEADER 32

#define BROKER_CODE(fn, method) CTL_CODE(FILE_DEVICE_UNKNOWN, (fn), (method), FILE_ANY_ACCESS)
#define IOCTL_BROKER_GET       BROKER_CODE(0xB00, METHOD_BUFFERED)
#define IOCTL_BROKER_COMPLETE  BROKER_CODE(0xB01, METHOD_BUFFERED)
#define IOCTL_BROKER_FAIL_NEXT BROKER_CODE(0xB02, METHOD_BUFFERED)
#define IOCTL_BROKER_STATS     BROKER_CODE(0xB03, METHOD_BUFFERED)

enum { EV_REQUEST = 1, EV_CANCEL = 2, EV_OPEN = 3, EV_CLOSE = 4, EV_RESIZE = 5 };
enum { ROLE_APP = 1, ROLE_SERVER = 2 };

struct slot { PIRP irp; ULONG id, file; BOOLEAN delivered; };
struct event { ULONG kind, id, file; };
struct stats {
    ULONG app_files_open, irps_pending, requests, delivered, cancel_routines, dropped_by_close, sync_failures, server_connected;
};
struct channel {
    struct slot slots[SLOTS];
    struct event events[EVENTS];
    ULONG ev_head, ev_count;
    PIRP gets[GETS];
    ULONG n_gets, next_id, next_file, seq;
    PFILE_OBJECT server_file;
    ULONG fail_code, fail_status;
    BOOLEAN fail_armed;
    struct stats stats;
};
struct ext { ULONG channel, role; };

static struct channel channels[CHANNELS];

static NTSTATUS complete(PIRP irp, NTSTATUS status, ULONG_PTR information)
{
    irp->IoStatus.Status = status;
    irp->IoStatus.Information = information;
    IoCompleteRequest(irp, IO_NO_INCREMENT);
    return status;
}

static struct ext *ext_of(PDEVICE_OBJECT device) { return device->DeviceExtension; }
static ULONG file_id(PIRP irp) { return (ULONG)(ULONG_PTR)IoGetCurrentIrpStackLocation(irp)->FileObject->FsContext; }
static ULONG ioctl_code(PIRP irp) { return IoGetCurrentIrpStackLocation(irp)->Parameters.DeviceIoControl.IoControlCode; }
static ULONG in_len(PIRP irp) { return IoGetCurrentIrpStackLocation(irp)->Parameters.DeviceIoControl.InputBufferLength; }
static ULONG out_len(PIRP irp) { return IoGetCurrentIrpStackLocation(irp)->Parameters.DeviceIoControl.OutputBufferLength; }

static UCHAR *mdl_bytes(PIRP irp)
{
    return irp->MdlAddress ? MmGetSystemAddressForMdlSafe(irp->MdlAddress, NormalPagePriority) : NULL;
}

static void copy(UCHAR *dst, const UCHAR *src, ULONG n)
{
    ULONG i;
    for (i = 0; i < n; i++) dst[i] = src[i];
}

static struct slot *slot_by_id(struct channel *ch, ULONG id)
{
    ULONG i;
    for (i = 0; i < SLOTS; i++) if (ch->slots[i].irp && ch->slots[i].id == id) return &ch->slots[i];
    return NULL;
}

static struct slot *slot_by_irp(struct channel *ch, PIRP irp)
{
    ULONG i;
    for (i = 0; i < SLOTS; i++) if (ch->slots[i].irp == irp) return &ch->slots[i];
    return NULL;
}

static BOOLEAN push_event(struct channel *ch, ULONG kind, ULONG id, ULONG file)
{
    struct event *e;
    if (ch->ev_count == EVENTS) { DbgPrint("usbfn-broker: event queue full\n"); return FALSE; }
    e = &ch->events[(ch->ev_head + ch->ev_count++) % EVENTS];
    e->kind = kind; e->id = id; e->file = file;
    return TRUE;
}

/* Takes a slot's IRP out of the broker (its cancel routine cleared) and completes it. */
static void finish_slot(struct channel *ch, struct slot *s, NTSTATUS status, ULONG_PTR information)
{
    PIRP irp = s->irp;
    KIRQL irql;
    IoAcquireCancelSpinLock(&irql);
    IoSetCancelRoutine(irp, NULL);
    IoReleaseCancelSpinLock(irql);
    s->irp = NULL;
    ch->stats.irps_pending--;
    complete(irp, status, information);
}

/* Bytes an EV_REQUEST carries: the input, then what METHOD_IN_DIRECT lets the device read. */
static ULONG request_data_len(PIRP irp)
{
    return in_len(irp) + ((ioctl_code(irp) & 3) == METHOD_IN_DIRECT ? out_len(irp) : 0);
}

/* Writes event e into a GET IRP's buffer; returns the bytes written, or 0 to ask for a resize. */
static ULONG fill_get(struct channel *ch, const struct event *e, PIRP get)
{
    ULONG *h = get->AssociatedIrp.SystemBuffer, cap = out_len(get);
    UCHAR *data = (UCHAR *)h + HEADER;
    ULONG i, need = HEADER;
    struct slot *s = e->kind == EV_REQUEST ? slot_by_id(ch, e->id) : NULL;
    PIRP irp = s ? s->irp : NULL;
    for (i = 0; i < HEADER / 4; i++) h[i] = 0;
    h[0] = e->kind; h[1] = e->id; h[2] = e->file;
    h[7] = ++ch->seq; /* the order events left the queue: completions may be harvested out of it */
    if (!irp) return HEADER;
    need += request_data_len(irp);
    if (need > cap) { ch->seq--; h[0] = EV_RESIZE; h[6] = need; h[7] = 0; return 0; }
    h[3] = ioctl_code(irp); h[4] = in_len(irp); h[5] = out_len(irp); h[6] = need - HEADER;
    if (in_len(irp)) copy(data, irp->AssociatedIrp.SystemBuffer, in_len(irp));
    if ((ioctl_code(irp) & 3) == METHOD_IN_DIRECT && out_len(irp)) {
        UCHAR *src = mdl_bytes(irp);
        if (src) copy(data + in_len(irp), src, out_len(irp));
    }
    s->delivered = TRUE;
    ch->stats.delivered++;
    return need;
}

/* Hands queued events to the server's pending GETs, oldest first on both sides. */
static void pump(struct channel *ch)
{
    while (ch->n_gets && ch->ev_count) {
        const struct event *e = &ch->events[ch->ev_head];
        PIRP get = ch->gets[0];
        ULONG i, n;
        KIRQL irql;
        if (e->kind == EV_REQUEST && !slot_by_id(ch, e->id)) { /* cancelled before the server saw it */
            ch->ev_head = (ch->ev_head + 1) % EVENTS; ch->ev_count--;
            continue;
        }
        IoAcquireCancelSpinLock(&irql);
        IoSetCancelRoutine(get, NULL);
        IoReleaseCancelSpinLock(irql);
        for (i = 0; i + 1 < ch->n_gets; i++) ch->gets[i] = ch->gets[i + 1];
        ch->n_gets--;
        n = fill_get(ch, e, get);
        if (n) { ch->ev_head = (ch->ev_head + 1) % EVENTS; ch->ev_count--; }
        complete(get, STATUS_SUCCESS, n ? n : HEADER);
    }
}

static VOID NTAPI cancel_app_irp(PDEVICE_OBJECT device, PIRP irp)
{
    struct channel *ch = &channels[ext_of(device)->channel];
    struct slot *s;
    IoReleaseCancelSpinLock(irp->CancelIrql);
    ch->stats.cancel_routines++;
    s = slot_by_irp(ch, irp);
    if (!s) return;
    if (!s->delivered) { s->irp = NULL; ch->stats.irps_pending--; complete(irp, STATUS_CANCELLED, 0); return; }
    push_event(ch, EV_CANCEL, s->id, s->file); /* the server completes it (cancelled, or with data it already had) */
    pump(ch);
}

static VOID NTAPI cancel_get(PDEVICE_OBJECT device, PIRP irp)
{
    struct channel *ch = &channels[ext_of(device)->channel];
    ULONG i, j;
    IoReleaseCancelSpinLock(irp->CancelIrql);
    for (i = 0; i < ch->n_gets; i++) {
        if (ch->gets[i] != irp) continue;
        for (j = i; j + 1 < ch->n_gets; j++) ch->gets[j] = ch->gets[j + 1];
        ch->n_gets--;
        break;
    }
    complete(irp, STATUS_CANCELLED, 0);
}

/* Pends irp with cancel routine fn; FALSE when it was cancelled already (then it is completed). */
static BOOLEAN pend(PIRP irp, PDRIVER_CANCEL fn)
{
    KIRQL irql;
    IoAcquireCancelSpinLock(&irql);
    if (irp->Cancel) { IoReleaseCancelSpinLock(irql); complete(irp, STATUS_CANCELLED, 0); return FALSE; }
    IoSetCancelRoutine(irp, fn);
    IoMarkIrpPending(irp);
    IoReleaseCancelSpinLock(irql);
    return TRUE;
}

static NTSTATUS app_ioctl(struct channel *ch, PIRP irp)
{
    ULONG code = ioctl_code(irp), i;
    struct slot *s = NULL;
    if (ch->fail_armed && code == ch->fail_code) {
        ch->fail_armed = FALSE;
        ch->stats.sync_failures++;
        return complete(irp, ch->fail_status, 0);
    }
    if (!ch->server_file) return complete(irp, STATUS_DEVICE_NOT_CONNECTED, 0);
    if ((code & 3) == METHOD_NEITHER) return complete(irp, STATUS_INVALID_DEVICE_REQUEST, 0);
    for (i = 0; i < SLOTS && !s; i++) if (!ch->slots[i].irp) s = &ch->slots[i];
    if (!s || ch->ev_count == EVENTS) return complete(irp, STATUS_INSUFFICIENT_RESOURCES, 0);
    if (!pend(irp, cancel_app_irp)) return STATUS_PENDING;
    s->irp = irp; s->id = ++ch->next_id; s->file = file_id(irp); s->delivered = FALSE;
    ch->stats.irps_pending++;
    ch->stats.requests++;
    push_event(ch, EV_REQUEST, s->id, s->file);
    pump(ch);
    return STATUS_PENDING;
}

/* COMPLETE: {id, status, bytes} then the data for the output buffer. */
static NTSTATUS server_complete(struct channel *ch, PIRP irp)
{
    const ULONG *h = irp->AssociatedIrp.SystemBuffer;
    ULONG len = in_len(irp), cap, n, method;
    struct slot *s;
    PIRP app;
    if (len < 12) return complete(irp, STATUS_INVALID_PARAMETER, 0);
    if (!(s = slot_by_id(ch, h[0]))) return complete(irp, STATUS_NOT_FOUND, 0);
    app = s->irp;
    cap = out_len(app);
    n = len - 12 < cap ? len - 12 : cap;
    method = ioctl_code(app) & 3;
    if (n && method == METHOD_BUFFERED) copy(app->AssociatedIrp.SystemBuffer, (const UCHAR *)(h + 3), n);
    if (n && method == METHOD_OUT_DIRECT) {
        UCHAR *dst = mdl_bytes(app);
        if (dst) copy(dst, (const UCHAR *)(h + 3), n);
    }
    /* Information is never more than the output buffer: Wine copies that many bytes back. */
    finish_slot(ch, s, (NTSTATUS)h[1], h[2] < cap ? h[2] : cap);
    return complete(irp, STATUS_SUCCESS, 0);
}

static NTSTATUS server_ioctl(struct channel *ch, PIRP irp)
{
    ULONG *buf = irp->AssociatedIrp.SystemBuffer;
    switch (ioctl_code(irp)) {
    case IOCTL_BROKER_GET:
        if (out_len(irp) < HEADER) return complete(irp, STATUS_BUFFER_TOO_SMALL, 0);
        if (ch->n_gets == GETS) return complete(irp, STATUS_INSUFFICIENT_RESOURCES, 0);
        if (!pend(irp, cancel_get)) return STATUS_PENDING;
        ch->gets[ch->n_gets++] = irp;
        pump(ch);
        return STATUS_PENDING;
    case IOCTL_BROKER_COMPLETE:
        return server_complete(ch, irp);
    case IOCTL_BROKER_FAIL_NEXT:
        if (in_len(irp) < 8) return complete(irp, STATUS_INVALID_PARAMETER, 0);
        ch->fail_code = buf[0]; ch->fail_status = buf[1]; ch->fail_armed = TRUE;
        return complete(irp, STATUS_SUCCESS, 0);
    case IOCTL_BROKER_STATS:
        if (out_len(irp) < sizeof(ch->stats)) return complete(irp, STATUS_BUFFER_TOO_SMALL, 0);
        RtlCopyMemory(buf, &ch->stats, sizeof(ch->stats));
        return complete(irp, STATUS_SUCCESS, sizeof(ch->stats));
    default:
        return complete(irp, STATUS_INVALID_DEVICE_REQUEST, 0);
    }
}

/* An application file object is going away: its IRPs are completed cancelled, the server told. */
static void drop_file(struct channel *ch, ULONG file)
{
    ULONG i;
    for (i = 0; i < SLOTS; i++) {
        struct slot *s = &ch->slots[i];
        if (!s->irp || s->file != file) continue;
        if (s->delivered) push_event(ch, EV_CANCEL, s->id, file);
        ch->stats.dropped_by_close++;
        finish_slot(ch, s, STATUS_CANCELLED, 0);
    }
}

/* The server is gone: nothing can answer what is pending or what comes. */
static void drop_server(struct channel *ch)
{
    ULONG i;
    ch->server_file = NULL;
    ch->stats.server_connected = 0;
    ch->ev_count = 0;
    ch->fail_armed = FALSE;
    for (i = 0; i < SLOTS; i++) if (ch->slots[i].irp) finish_slot(ch, &ch->slots[i], STATUS_DEVICE_NOT_CONNECTED, 0);
    while (ch->n_gets) {
        PIRP get = ch->gets[--ch->n_gets];
        KIRQL irql;
        IoAcquireCancelSpinLock(&irql);
        IoSetCancelRoutine(get, NULL);
        IoReleaseCancelSpinLock(irql);
        complete(get, STATUS_CANCELLED, 0);
    }
}

static NTSTATUS NTAPI dispatch(PDEVICE_OBJECT device, PIRP irp)
{
    struct ext *x = ext_of(device);
    struct channel *ch = &channels[x->channel];
    PIO_STACK_LOCATION sp = IoGetCurrentIrpStackLocation(irp);
    BOOLEAN server = x->role == ROLE_SERVER;
    switch (sp->MajorFunction) {
    case IRP_MJ_CREATE:
        if (server) {
            if (ch->server_file) return complete(irp, STATUS_SHARING_VIOLATION, 0);
            ch->server_file = sp->FileObject;
            ch->seq = 0;
            ch->stats.server_connected = 1;
            return complete(irp, STATUS_SUCCESS, 0);
        }
        if (!ch->server_file) return complete(irp, STATUS_DEVICE_NOT_CONNECTED, 0);
        sp->FileObject->FsContext = (PVOID)(ULONG_PTR)++ch->next_file;
        ch->stats.app_files_open++;
        push_event(ch, EV_OPEN, 0, ch->next_file);
        pump(ch);
        return complete(irp, STATUS_SUCCESS, 0);
    case IRP_MJ_CLEANUP:
    case IRP_MJ_CLOSE:
        if (server) {
            if (ch->server_file == sp->FileObject) drop_server(ch);
        } else if (sp->FileObject->FsContext) {
            drop_file(ch, file_id(irp));
            if (sp->MajorFunction == IRP_MJ_CLOSE) {
                ch->stats.app_files_open--;
                if (ch->server_file) push_event(ch, EV_CLOSE, 0, file_id(irp));
                sp->FileObject->FsContext = NULL;
            }
            pump(ch);
        }
        return complete(irp, STATUS_SUCCESS, 0);
    case IRP_MJ_DEVICE_CONTROL:
        return server ? server_ioctl(ch, irp) : app_ioctl(ch, irp);
    default:
        return complete(irp, STATUS_INVALID_DEVICE_REQUEST, 0);
    }
}

/* name = prefix + base + decimal channel (no ntstrsafe in Wine's ntoskrnl) */
static void device_name(UNICODE_STRING *out, WCHAR *buf, USHORT cap, const WCHAR *prefix, const WCHAR *base, ULONG channel)
{
    USHORT n = 0;
    while (*prefix) buf[n++] = *prefix++;
    while (*base) buf[n++] = *base++;
    buf[n++] = (WCHAR)(L'0' + channel);
    buf[n] = 0;
    out->Buffer = buf; out->Length = n * sizeof(WCHAR); out->MaximumLength = cap;
}

static NTSTATUS create_device(PDRIVER_OBJECT driver, ULONG channel, ULONG role)
{
    WCHAR dev_buf[64], link_buf[64];
    UNICODE_STRING dev_name, link_name;
    const WCHAR *base = role == ROLE_SERVER ? L"UsbFnBrokerServer" : L"UsbFnBroker";
    PDEVICE_OBJECT device;
    NTSTATUS status;
    device_name(&dev_name, dev_buf, sizeof(dev_buf), L"\\Device\\", base, channel);
    device_name(&link_name, link_buf, sizeof(link_buf), L"\\DosDevices\\", base, channel);
    status = IoCreateDevice(driver, sizeof(struct ext), &dev_name, FILE_DEVICE_UNKNOWN, 0, FALSE, &device);
    if (!NT_SUCCESS(status)) return status;
    ext_of(device)->channel = channel;
    ext_of(device)->role = role;
    status = IoCreateSymbolicLink(&link_name, &dev_name);
    if (!NT_SUCCESS(status)) { IoDeleteDevice(device); return status; }
    device->Flags |= DO_DIRECT_IO;
    device->Flags &= ~DO_DEVICE_INITIALIZING;
    return STATUS_SUCCESS;
}

NTSTATUS NTAPI DriverEntry(PDRIVER_OBJECT driver, PUNICODE_STRING registry)
{
    ULONG c;
    NTSTATUS status;
    (void)registry;
    for (c = 0; c < CHANNELS; c++) {
        if (!NT_SUCCESS(status = create_device(driver, c, ROLE_APP))) return status;
        if (!NT_SUCCESS(status = create_device(driver, c, ROLE_SERVER))) return status;
    }
    driver->MajorFunction[IRP_MJ_CREATE] = dispatch;
    driver->MajorFunction[IRP_MJ_CLEANUP] = dispatch;
    driver->MajorFunction[IRP_MJ_CLOSE] = dispatch;
    driver->MajorFunction[IRP_MJ_DEVICE_CONTROL] = dispatch;
    DbgPrint("usbfn-broker: %u channels ready\n", CHANNELS);
    return STATUS_SUCCESS;
}
