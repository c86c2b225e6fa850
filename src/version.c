/* version.c - the version of the full library (libwsc). */
#include "wsc/wsc.h"

const char *wsc_version(void) { return WSC_VERSION_STRING; }
