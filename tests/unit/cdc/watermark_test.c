#include <string.h>

#include "cdc/watermark.h"
#include "test.h"

LS_TEST(horizon_stays_below_the_oldest_open_write_transaction)
{
    /* No open transaction: clock minus the safety delay. */
    LS_CHECK(ls_cdc_horizon_us(10000000, LS_CDC_NO_OPEN_TX, 100) == 9900000);
    /* An open transaction that started earlier holds the horizon back. */
    LS_CHECK(ls_cdc_horizon_us(10000000, 4000000, 100) == 3900000);
    /* A transaction "newer" than the clock (skew) does not raise it. */
    LS_CHECK(ls_cdc_horizon_us(10000000, 12000000, 0) == 10000000);
    LS_CHECK(ls_cdc_horizon_us(10000000, LS_CDC_NO_OPEN_TX, -5) == 10000000);
}

LS_TEST(watermark_advances_only_over_the_acknowledged_prefix)
{
    uint8_t all[] = {LS_CDC_ACKED, LS_CDC_ACKED, LS_CDC_ACKED};
    LS_CHECK_INT_EQ((int)ls_cdc_acked_prefix(all, 3), 3);
    uint8_t hole[] = {LS_CDC_ACKED, LS_CDC_FAILED, LS_CDC_ACKED};
    LS_CHECK_INT_EQ((int)ls_cdc_acked_prefix(hole, 3), 1);
    uint8_t pending[] = {LS_CDC_PENDING, LS_CDC_ACKED};
    LS_CHECK_INT_EQ((int)ls_cdc_acked_prefix(pending, 2), 0);
    LS_CHECK_INT_EQ((int)ls_cdc_acked_prefix(all, 0), 0);
}

LS_TEST(microseconds_format_as_iso_utc)
{
    char buf[48];
    ls_cdc_format_us(1736943840000000LL, buf, sizeof(buf));
    LS_CHECK_STR_EQ(buf, "2025-01-15T12:24:00Z");
    ls_cdc_format_us(1736943840000123LL, buf, sizeof(buf));
    LS_CHECK_STR_EQ(buf, "2025-01-15T12:24:00.000123Z");
    ls_cdc_format_us(-1, buf, sizeof(buf));
    LS_CHECK_STR_EQ(buf, "1969-12-31T23:59:59.999999Z");
    char iso[] = "2025-01-15T12:24:00.000000Z";
    ls_cdc_trim_zero_fraction(iso);
    LS_CHECK_STR_EQ(iso, "2025-01-15T12:24:00Z");
    char iso2[] = "2025-01-15T12:24:00.500000Z";
    ls_cdc_trim_zero_fraction(iso2);
    LS_CHECK_STR_EQ(iso2, "2025-01-15T12:24:00.500000Z");
}

LS_TEST_MAIN(LS_T(horizon_stays_below_the_oldest_open_write_transaction),
             LS_T(watermark_advances_only_over_the_acknowledged_prefix),
             LS_T(microseconds_format_as_iso_utc))
