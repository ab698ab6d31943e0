/*
 * The bridge from a librdkafka queue to the uv loop: an fd that librdkafka
 * writes to (rd_kafka_queue_io_event_enable), a uv_poll on it and a timer
 * that re-drains a queue left non-empty. It never polls a queue with a
 * timeout above 0 and never reads the pipe in a blocking way.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "kafka/internal.h"

enum { LS_KAFKA_QWATCH_SAFETY_MS = 200 };

static void qwatch_timer_cb(uv_timer_t *t);

static void qwatch_schedule(ls__kafka_qwatch_t *w, bool more)
{
    if (uv_is_closing((uv_handle_t *)&w->timer))
        return;
    uv_timer_start(&w->timer, qwatch_timer_cb, more ? 0 : LS_KAFKA_QWATCH_SAFETY_MS, 0);
}

static void qwatch_drain(ls__kafka_qwatch_t *w)
{
    char buf[256];
    while (read(w->fds[0], buf, sizeof(buf)) > 0)
        ;
    bool more = w->drain(w->owner);
    qwatch_schedule(w, more);
}

static void qwatch_timer_cb(uv_timer_t *t)
{
    qwatch_drain(t->data);
}

static void qwatch_poll_cb(uv_poll_t *p, int status, int events)
{
    qwatch_drain(p->data);
}

int ls__kafka_qwatch_start(ls__kafka_qwatch_t *w, uv_loop_t *loop, rd_kafka_queue_t *queue,
                           bool (*drain)(void *owner), void *owner, ls_error_t *err)
{
    memset(w, 0, sizeof(*w));
    w->fds[0] = w->fds[1] = -1;
    if (pipe2(w->fds, O_NONBLOCK | O_CLOEXEC) != 0)
        return ls_error_set(err, LS_ERR_INTERNAL, "pipe: %s", strerror(errno));
    w->queue = queue;
    w->drain = drain;
    w->owner = owner;
    int rc = uv_poll_init(loop, &w->poll, w->fds[0]);
    if (rc != 0) {
        ls__kafka_qwatch_close_fds(w);
        return ls_error_set(err, LS_ERR_INTERNAL, "uv_poll_init: %s", uv_strerror(rc));
    }
    uv_timer_init(loop, &w->timer);
    w->poll.data = w;
    w->timer.data = w;
    w->open_handles = 2;
    rd_kafka_queue_io_event_enable(queue, w->fds[1], "1", 1);
    uv_poll_start(&w->poll, UV_READABLE, qwatch_poll_cb);
    /* Events may already be queued (enqueued before the io event existed). */
    uv_timer_start(&w->timer, qwatch_timer_cb, 0, 0);
    return LS_ERR_OK;
}

static void qwatch_handle_closed(uv_handle_t *h)
{
    ls__kafka_qwatch_t *w = h->data;
    if (--w->open_handles == 0 && w->on_closed)
        w->on_closed(w);
}

void ls__kafka_qwatch_stop(ls__kafka_qwatch_t *w, void (*on_closed)(ls__kafka_qwatch_t *w))
{
    rd_kafka_queue_io_event_enable(w->queue, -1, NULL, 0);
    w->on_closed = on_closed;
    uv_close((uv_handle_t *)&w->poll, qwatch_handle_closed);
    uv_close((uv_handle_t *)&w->timer, qwatch_handle_closed);
}

void ls__kafka_qwatch_close_fds(ls__kafka_qwatch_t *w)
{
    for (int i = 0; i < 2; i++) {
        if (w->fds[i] >= 0)
            close(w->fds[i]);
        w->fds[i] = -1;
    }
}
