/* json_c_shim.c - json-c for bench_json.c's hand-built comparison (json-c's
   names clash with jansson's, so it lives in its own translation unit). */
#include <json-c/json.h>
#include <stddef.h>

int jsonc_parse_seq(const char *s, size_t n, long *seq);
int jsonc_parse_seq(const char *s, size_t n, long *seq) {
    struct json_tokener *tok = json_tokener_new();
    struct json_object *j = json_tokener_parse_ex(tok, s, (int)n);
    json_tokener_free(tok);
    if (!j) return -1;
    struct json_object *v;
    if (json_object_object_get_ex(j, "seq", &v)) *seq = (long)json_object_get_int64(v);
    json_object_put(j);
    return 0;
}
