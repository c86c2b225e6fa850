// consumer.cpp - every public header of wsc, included by a C++17 program
// (extern "C", no C-only constructs in the headers), then the same echo
// check as consumer.c through the connection layer, and once more through
// the blocking API (sync.h). (The adapter headers
// each need their event library: run_consumers.py compiles each of them
// from C++ on its own, as libev and libevent cannot share a file.)
#include <wsc/client.h>
#include <wsc/http.h>
#include <wsc/json.h>
#include <wsc/loop.h>
#include <wsc/proto.h>
#include <wsc/server.h>
#include <wsc/store.h>
#include <wsc/sync.h>
#include <wsc/ws.h>
#include <wsc/wsc.h>

#include <cstdio>
#include <cstring>
#include <string>

namespace {
struct State {
    bool echoed = false;
    bool clean = false;
};

void on_open(wsc_ws *ws, const wsc_ws_event *, void *) { wsc_ws_send_text(ws, "from C++", 8); }

void on_message(wsc_ws *ws, const wsc_ws_event *ev, void *user) {
    auto *st = static_cast<State *>(user);
    st->echoed = std::string(reinterpret_cast<const char *>(ev->data), ev->len) == "from C++";
    wsc_ws_close(ws, 1000, "done");
}

void on_close(wsc_ws *, const wsc_ws_event *ev, void *user) {
    static_cast<State *>(user)->clean = ev->was_clean != 0;
}
} // namespace

int main(int argc, char **argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s URL\n", argv[0]);
        return 2;
    }
    wsc_error err{};
    wsc_loop *loop = wsc_loop_new(&err);
    if (!loop) return 1;
    State st;
    wsc_ws_options o{};
    o.on_open = on_open;
    o.on_message = on_message;
    o.on_close = on_close;
    o.user = &st;
    wsc_ws *ws = wsc_ws_new(loop, argv[1], &o, &err);
    if (!ws) {
        std::fprintf(stderr, "consumer++: %s\n", err.message);
        wsc_loop_free(loop);
        return 1;
    }
    wsc_loop_run(loop);
    wsc_ws_free(ws);
    wsc_loop_free(loop);
    bool sync_ok = false;
    if (wsc_sync *s = wsc_sync_connect(argv[1], nullptr, 10000, &err)) {
        wsc_sync_msg m{};
        sync_ok = wsc_sync_send_text(s, "blocking", 8, -1) == WSC_OK && wsc_sync_recv(s, &m, 10000) == WSC_OK &&
                  std::string(reinterpret_cast<const char *>(m.data), m.len) == "blocking" &&
                  wsc_sync_close(s, 1000, "done", -1) == WSC_OK;
        wsc_sync_free(s);
    }
    std::printf("consumer++: wsc %s, echo %s, close %s, blocking echo %s\n", wsc_version(), st.echoed ? "ok" : "MISSING",
                st.clean ? "clean" : "NOT clean", sync_ok ? "ok" : "FAILED");
    return st.echoed && st.clean && sync_ok ? 0 : 1;
}
