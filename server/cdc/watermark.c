/* Watermark arithmetic for CDC sources (see watermark.h). */
#include "cdc/watermark.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

int64_t ls_cdc_horizon_us(int64_t clock_us, int64_t oldest_open_tx_us, int64_t safety_delay_ms)
{
    int64_t h = oldest_open_tx_us < clock_us ? oldest_open_tx_us : clock_us;
    if (safety_delay_ms < 0)
        safety_delay_ms = 0;
    return h - safety_delay_ms * 1000;
}

size_t ls_cdc_acked_prefix(const uint8_t *outcomes, size_t n)
{
    size_t i = 0;
    while (i < n && outcomes[i] == LS_CDC_ACKED)
        i++;
    return i;
}

void ls_cdc_format_us(int64_t us, char *buf, size_t size)
{
    int64_t secs = us / 1000000, frac = us % 1000000;
    if (frac < 0) {
        frac += 1000000;
        secs -= 1;
    }
    time_t t = (time_t)secs;
    struct tm tm;
    gmtime_r(&t, &tm);
    char base[32];
    strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
    if (frac == 0)
        snprintf(buf, size, "%sZ", base);
    else
        snprintf(buf, size, "%s.%06lldZ", base, (long long)frac);
}

void ls_cdc_trim_zero_fraction(char *iso)
{
    char *dot = strstr(iso, ".000000Z");
    if (dot != NULL && dot[8] == '\0')
        memcpy(dot, "Z", 2);
}
