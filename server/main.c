/*
 * lakestreamd: reads the configuration, starts the app on one libuv loop
 * and runs it until SIGTERM or SIGINT asks for a graceful stop (a second
 * signal during the stop exits at once). Exit codes are listed in --help.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "core/config.h"
#include "core/log.h"
#include "services/app.h"

extern char **environ;

typedef struct {
    ls_app_t app;
    uv_signal_t sigterm, sigint;
    int signals;
    bool stopped;
} daemon_t;

static void on_stopped(void *arg)
{
    daemon_t *d = arg;
    d->stopped = true;
    uv_close((uv_handle_t *)&d->sigterm, NULL);
    uv_close((uv_handle_t *)&d->sigint, NULL);
}

static void on_signal(uv_signal_t *h, int signum)
{
    daemon_t *d = h->data;
    if (++d->signals > 1) {
        ls_log(LS_LOG_WARN, "main", "second signal %d during stop: exiting now", signum);
        ls_log_flush();
        _exit(LS_EXIT_STOP_TIMEOUT);
    }
    ls_log(LS_LOG_INFO, "main", "received %s", signum == SIGTERM ? "SIGTERM" : "SIGINT");
    ls_app_stop(&d->app, on_stopped, d);
}

int main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN);
    ls_config_t cfg;
    ls_config_action_t action;
    ls_error_t err;
    ls_error_clear(&err);
    if (ls_config_load(&cfg, argc, argv, environ, &action, &err) != LS_ERR_OK) {
        fprintf(stderr, "lakestreamd: %s\n", err.message);
        ls_config_free(&cfg);
        return LS_EXIT_CONFIG;
    }
    if (action == LS_CONFIG_HELP) {
        ls_config_print_help(stdout);
        ls_config_free(&cfg);
        return LS_EXIT_OK;
    }
    if (action == LS_CONFIG_VERSION) {
        printf("lakestreamd %s\n", LS_VERSION);
        ls_config_free(&cfg);
        return LS_EXIT_OK;
    }

    uv_loop_t loop;
    uv_loop_init(&loop);
    static daemon_t d;
    uv_signal_init(&loop, &d.sigterm);
    uv_signal_init(&loop, &d.sigint);
    d.sigterm.data = d.sigint.data = &d;
    uv_signal_start(&d.sigterm, on_signal, SIGTERM);
    uv_signal_start(&d.sigint, on_signal, SIGINT);

    int exit_code;
    if (ls_app_start(&d.app, &loop, &cfg, &err) != LS_ERR_OK) {
        ls_log(LS_LOG_FATAL, "main", "cannot start: %s", err.message);
        ls_log_flush();
        exit_code = d.app.exit_code ? d.app.exit_code : LS_EXIT_RUNTIME;
        d.app.on_stopped = on_stopped;
        d.app.on_stopped_arg = &d;
        if (!d.app.stopping) /* failed before anything was opened */
            on_stopped(&d);
        uv_run(&loop, UV_RUN_DEFAULT);
    } else {
        uv_run(&loop, UV_RUN_DEFAULT);
        exit_code = d.app.exit_code;
    }
    int rc = uv_loop_close(&loop);
    if (rc != 0) {
        fprintf(stderr,
                "{\"level\":\"error\",\"component\":\"main\",\"msg\":\"loop closed with handles "
                "still open: %s\"}\n",
                uv_strerror(rc));
        if (exit_code == LS_EXIT_OK)
            exit_code = LS_EXIT_RUNTIME;
    }
    ls_config_free(&cfg);
    return exit_code;
}
