/*
 * Metrics registry and exposition helpers (see metrics.h). Nothing here is
 * allocated per observation; rendering builds one text buffer per scrape.
 */
#include "core/metrics.h"

#include <math.h>
#include <stdlib.h>

#include "core/alloc.h"

const double ls_histogram_bounds[LS_HISTOGRAM_BUCKETS] = {
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 2.5};

void ls_histogram_observe(ls_histogram_t *h, double seconds)
{
    int i = 0;
    while (i < LS_HISTOGRAM_BUCKETS && seconds > ls_histogram_bounds[i])
        i++;
    h->counts[i]++;
    h->sum += seconds;
    h->count++;
}

void ls_metrics_header(ls_buf_t *out, const char *name, const char *type, const char *help)
{
    ls_buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

void ls_metrics_sample(ls_buf_t *out, const char *name, const char *labels, double value)
{
    if (labels != NULL && labels[0] != '\0')
        ls_buf_printf(out, "%s{%s} ", name, labels);
    else
        ls_buf_printf(out, "%s ", name);
    if (value == floor(value) && fabs(value) < 1e15)
        ls_buf_printf(out, "%.0f\n", value);
    else
        ls_buf_printf(out, "%.9g\n", value);
}

void ls_metrics_histogram(ls_buf_t *out, const char *name, const char *labels,
                          const ls_histogram_t *h)
{
    const char *sep = labels != NULL && labels[0] != '\0' ? "," : "";
    const char *l = labels != NULL ? labels : "";
    uint64_t cumulative = 0;
    for (int i = 0; i < LS_HISTOGRAM_BUCKETS; i++) {
        cumulative += h->counts[i];
        ls_buf_printf(out, "%s_bucket{%s%sle=\"%g\"} %llu\n", name, l, sep, ls_histogram_bounds[i],
                      (unsigned long long)cumulative);
    }
    cumulative += h->counts[LS_HISTOGRAM_BUCKETS];
    ls_buf_printf(out, "%s_bucket{%s%sle=\"+Inf\"} %llu\n", name, l, sep,
                  (unsigned long long)cumulative);
    if (l[0] != '\0') {
        ls_buf_printf(out, "%s_sum{%s} %.9g\n", name, l, h->sum);
        ls_buf_printf(out, "%s_count{%s} %llu\n", name, l, (unsigned long long)h->count);
    } else {
        ls_buf_printf(out, "%s_sum %.9g\n", name, h->sum);
        ls_buf_printf(out, "%s_count %llu\n", name, (unsigned long long)h->count);
    }
}

struct ls_metrics {
    struct {
        ls_metrics_collector_fn fn;
        void *arg;
    } * collectors;
    size_t count;
};

ls_metrics_t *ls_metrics_new(void)
{
    return ls_calloc(1, sizeof(ls_metrics_t));
}

void ls_metrics_free(ls_metrics_t *m)
{
    if (m == NULL)
        return;
    free(m->collectors);
    free(m);
}

void ls_metrics_register(ls_metrics_t *m, ls_metrics_collector_fn fn, void *arg)
{
    m->collectors = ls_realloc(m->collectors, (m->count + 1) * sizeof(*m->collectors));
    m->collectors[m->count].fn = fn;
    m->collectors[m->count].arg = arg;
    m->count++;
}

void ls_metrics_render(ls_metrics_t *m, ls_buf_t *out)
{
    for (size_t i = 0; i < m->count; i++)
        m->collectors[i].fn(m->collectors[i].arg, out);
}

static void on_lag_timer(uv_timer_t *t)
{
    ls_loop_lag_t *lag = t->data;
    uint64_t now = uv_hrtime();
    double late = now > lag->expected_ns ? (double)(now - lag->expected_ns) / 1e9 : 0.0;
    lag->last_s = late;
    if (late > lag->max_s)
        lag->max_s = late;
    ls_histogram_observe(&lag->histogram, late);
    lag->expected_ns = now + lag->interval_ms * 1000000ull;
}

void ls_loop_lag_start(uv_loop_t *loop, ls_loop_lag_t *lag, uint64_t interval_ms)
{
    lag->interval_ms = interval_ms;
    uv_timer_init(loop, &lag->timer);
    lag->timer.data = lag;
    lag->expected_ns = uv_hrtime() + interval_ms * 1000000ull;
    uv_timer_start(&lag->timer, on_lag_timer, interval_ms, interval_ms);
    uv_unref((uv_handle_t *)&lag->timer);
}

void ls_loop_lag_close(ls_loop_lag_t *lag)
{
    uv_timer_stop(&lag->timer);
    uv_close((uv_handle_t *)&lag->timer, NULL);
}

void ls_loop_lag_collect(void *arg, ls_buf_t *out)
{
    ls_loop_lag_t *lag = arg;
    ls_metrics_header(out, "lakestream_event_loop_lag_seconds", "gauge",
                      "How late the last event-loop lag probe ran");
    ls_metrics_sample(out, "lakestream_event_loop_lag_seconds", NULL, lag->last_s);
    ls_metrics_header(out, "lakestream_event_loop_lag_max_seconds", "gauge",
                      "Largest event-loop lag seen since start");
    ls_metrics_sample(out, "lakestream_event_loop_lag_max_seconds", NULL, lag->max_s);
    ls_metrics_header(out, "lakestream_event_loop_lag_probe_seconds", "histogram",
                      "Distribution of event-loop lag probes");
    ls_metrics_histogram(out, "lakestream_event_loop_lag_probe_seconds", NULL, &lag->histogram);
}
