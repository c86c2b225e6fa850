/* reconnect.h - the Retry-After parser of the reconnect policy (private;
   the policy itself is public: wsc_client_default_policy in client.h). */
#ifndef WSC_RECONNECT_H
#define WSC_RECONNECT_H

#include <time.h>

/* The longest Retry-After honoured: one day (a larger value is cut to it). */
#define WSC__RETRY_AFTER_MAX_S 86400ull

/* A Retry-After header value in milliseconds from `now` (delay-seconds or
   an HTTP date); 0 if absent or malformed; 1 for "now" or a past date. */
unsigned wsc__retry_after_ms(const char *value, time_t now);

#endif
