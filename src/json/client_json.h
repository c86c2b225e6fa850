/* client_json.h - the JSON half of the client (client.c): parsing each
   received message into a reused document, and the text that
   wsc_client_send_json() / wsc_client_send_json_text() put on the wire
   (with the csrf member). Kept out of client.c so that the client's
   connection, queue and reconnect logic does not carry JSON details. */
#ifndef WSC_CLIENT_JSON_H
#define WSC_CLIENT_JSON_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "wsc/json.h"
#include "wsc/wsc.h"

typedef struct wsc__client_json {
    wsc_json_doc *rx; /* the message being delivered (reused) */
    wsc_json_doc *tx; /* the JSON text being sent (reused; separate, so that
                         sending from a message callback keeps rx intact) */
    wsc_buf out;      /* the text being sent (reused; wiped after each send:
                         it holds the token) */
} wsc__client_json;

/*
 * Parses a received message into cj->rx (text: UTF-8 already validated by
 * the connection; binary: validated here). *view gets the root. With
 * want_dom, *dom gets a json_t built from it (a reference the caller
 * drops), else NULL.
 * WSC_OK; WSC_EJSON (err: line, column, message; or, with want_dom, a
 * number jansson cannot hold: err->line 0); WSC_ENOMEM.
 */
int wsc__cj_receive(wsc__client_json *cj, const uint8_t *data, size_t len, int binary, int want_dom, wsc_json *view,
                    json_t **dom, wsc_json_error *err);

/* Validates JSON text to be sent (UTF-8, RFC 8259, no duplicate keys) into
   cj->tx; with need_object, the root must be an object. WSC_OK, WSC_EJSON,
   WSC_EINVAL (not an object), WSC_ETOOBIG, WSC_ENOMEM. */
int wsc__cj_check_text(wsc__client_json *cj, const char *text, size_t len, int need_object);

/* After a successful wsc__cj_check_text() of text: the bytes to send, with
   member prop set to token if token is not NULL (then in cj->out), or the
   text itself. WSC_OK, WSC_EINVAL, WSC_ENOMEM. */
int wsc__cj_text_out(wsc__client_json *cj, const char *text, size_t len, const char *prop, const char *token,
                     const char **out, size_t *out_len);

/* wsc__cj_text_out() as pieces for wsc__ws_send_text_pieces() (no join):
   v has room for WSC__SPLICE_PIECES (json_internal.h); they point into text
   and cj->out (wipe it once they are sent). Their UTF-8 is valid: text's
   was checked by the parse, the token and prop are checked when set.
   WSC_OK, WSC_EINVAL, WSC_ENOMEM. */
struct wsc__piece;
int wsc__cj_text_pieces(wsc__client_json *cj, const char *text, size_t len, const char *prop, const char *token,
                        struct wsc__piece *v, size_t *n);

/* The compact text of a jansson value, with prop set to token if token is
   not NULL (value must then be an object), in cj->out.
   WSC_OK, WSC_EINVAL, WSC_EJSON, WSC_ENOMEM. */
int wsc__cj_jansson_out(wsc__client_json *cj, json_t *value, const char *prop, const char *token, const char **out,
                        size_t *out_len);

/* Wipes cj->out (it may hold the token) and keeps its storage. */
void wsc__cj_wipe(wsc__client_json *cj);

void wsc__cj_free(wsc__client_json *cj);

#endif
