/*
 * Prometheus text exposition. Modules keep their own counters in their own
 * structs (no lookup on hot paths) and register a collector that prints them
 * when /metrics is scraped. Histograms here are fixed-bucket and lock-free on
 * the loop thread. Loop thread only.
 */
#ifndef LS_CORE_METRICS_H
#define LS_CORE_METRICS_H

#include <stdint.h>
#include <uv.h>

#include "core/buf.h"

/* Latency buckets in seconds, shared by every histogram. */
#define LS_HISTOGRAM_BUCKETS 12
extern const double ls_histogram_bounds[LS_HISTOGRAM_BUCKETS];

typedef struct {
    uint64_t counts[LS_HISTOGRAM_BUCKETS + 1]; /* last one is +Inf */
    double sum;
    uint64_t count;
} ls_histogram_t;

void ls_histogram_observe(ls_histogram_t *h, double seconds);

/* Writes "# HELP" and "# TYPE" lines. */
void ls_metrics_header(ls_buf_t *out, const char *name, const char *type, const char *help);
/* Writes `name{labels} value`; labels is the inside of the braces or NULL. */
void ls_metrics_sample(ls_buf_t *out, const char *name, const char *labels, double value);
/* Writes the _bucket/_sum/_count lines of h with extra labels (may be NULL). */
void ls_metrics_histogram(ls_buf_t *out, const char *name, const char *labels,
                          const ls_histogram_t *h);

typedef void (*ls_metrics_collector_fn)(void *arg, ls_buf_t *out);
typedef struct ls_metrics ls_metrics_t;

ls_metrics_t *ls_metrics_new(void);
void ls_metrics_free(ls_metrics_t *m);
/* Collectors run in registration order on every scrape. */
void ls_metrics_register(ls_metrics_t *m, ls_metrics_collector_fn fn, void *arg);
void ls_metrics_render(ls_metrics_t *m, ls_buf_t *out);

/* Event-loop lag: a timer that fires every interval_ms and records how late
 * it ran. The handle is embedded; ls_loop_lag_close closes it (the close
 * callback runs in the loop). */
typedef struct {
    uv_timer_t timer;
    uint64_t interval_ms;
    uint64_t expected_ns;
    double last_s, max_s;
    ls_histogram_t histogram;
} ls_loop_lag_t;

void ls_loop_lag_start(uv_loop_t *loop, ls_loop_lag_t *lag, uint64_t interval_ms);
void ls_loop_lag_close(ls_loop_lag_t *lag);
void ls_loop_lag_collect(void *arg, ls_buf_t *out); /* arg: ls_loop_lag_t* */

#endif
