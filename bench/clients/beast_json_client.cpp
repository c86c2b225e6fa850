// beast_json_client.cpp - the `bench` contract's json mode (bench/README.md,
// "json") on Boost.Beast + Boost.JSON (Debian's Boost 1.81:
// libboost1.81-dev, libboost-json1.81-dev):
//
//   beast_json_client [--reuse|--raw] json ws://127.0.0.1:PORT/ COUNT SIZE
//
// The messages of bench/json_msg.h (the same bytes as `wsc bench json`,
// ws_client.js and websockets_client.py), 64 in flight, every echo given to
// Boost.JSON and its "seq" (the number sent, in order) and the length of
// "items" checked. Beast's asynchronous API on one io_context thread, as
// beast_client.cpp's throughput mode: a writer chain kept at 64 messages in
// flight beside a reader chain (Beast allows one read and one write
// outstanding at once), echoes read into one flat_buffer.
//
// Parsing:
//   default   boost::json::parse(string_view): the documented one-call form,
//             a new value tree on the default memory resource per message
//             (what JSON.parse and json.loads do in the other clients);
//   --reuse   Boost.JSON's own fast idiom: one boost::json::parser kept for
//             the whole run (its internal buffers reused) and each value
//             tree built on a monotonic_resource over a stack buffer,
//             released all at once after the check;
//   --raw     no parse: seq compared as bytes (as `wsc bench --recv raw`),
//             Beast's own ceiling for this exchange.
// The first two validate the whole message (boost::json fails on invalid JSON).
// No extension is offered (permessage-deflate is off by default in Beast).
// ws:// only: the JSON benchmark (bench/json_run.py) runs without TLS.
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/json.hpp>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

extern "C" {
#include "bench_util.h"
}
#include "../json_msg.h"

namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace net = boost::asio;
namespace bjson = boost::json;
using tcp = net::ip::tcp;

static const uint64_t MAX_IN_FLIGHT = 64;

[[noreturn]] static void fail(const std::string &why) {
    std::fprintf(stderr, "beast_json_client: %s\n", why.c_str());
    std::exit(1);
}

static unsigned long long num(const char *s) {
    char *end;
    unsigned long long v = std::strtoull(s, &end, 10);
    if (!*s || *end) fail(std::string("bad number '") + s + "'");
    return v;
}

struct Url {
    std::string host, port, target;
};

static Url parse_url(const std::string &u) {
    Url r;
    if (u.rfind("ws://", 0) != 0) fail("URL must be ws:// (no TLS in the json benchmark)");
    std::string rest = u.substr(5);
    auto slash = rest.find('/');
    std::string hostport = rest.substr(0, slash);
    r.target = slash == std::string::npos ? "/" : rest.substr(slash);
    auto colon = hostport.rfind(':');
    if (colon == std::string::npos) fail("URL needs a port");
    r.host = hostport.substr(0, colon);
    r.port = hostport.substr(colon + 1);
    return r;
}

using WS = websocket::stream<beast::tcp_stream>;

struct Pump {
    WS &ws;
    uint64_t total, sent = 0, received = 0;
    size_t size, items;
    int how; // 0 parse, 1 --reuse, 2 --raw
    std::string out;
    beast::flat_buffer in;
    bool writing = false;
    bjson::parser parser; // --reuse only

    Pump(WS &w, uint64_t n, size_t sz, int h) : ws(w), total(n), size(sz), how(h), out(sz + 1, '\0') {
        items = json_msg_build(&out[0], size);
        if (!items) fail("SIZE too small");
        out.resize(size);
    }

    void write_more() {
        if (writing || sent >= total || sent - received >= MAX_IN_FLIGHT) return;
        writing = true;
        json_msg_seq(&out[0], sent);
        ws.async_write(net::buffer(out), [this](beast::error_code ec, std::size_t) {
            if (ec) fail("write: " + ec.message());
            writing = false;
            sent++;
            write_more();
        });
    }

    // The check every client makes: seq is the number sent, items has its length.
    bool check(const bjson::value &v) const {
        const bjson::object *o = v.if_object();
        if (!o) return false;
        const bjson::value *seq = o->if_contains("seq");
        const bjson::value *its = o->if_contains("items");
        const std::int64_t *s = seq ? seq->if_int64() : nullptr;
        const bjson::array *a = its ? its->if_array() : nullptr;
        return s && a && *s == std::int64_t(1000000000ull + received) && a->size() == items;
    }

    bool parse_and_check(bjson::string_view text) {
        if (how == 2) {
            char digits[10];
            uint64_t w = 1000000000ull + received;
            for (int k = 9; k >= 0; k--, w /= 10) digits[k] = char('0' + w % 10);
            return std::memcmp(text.data() + JSON_MSG_SEQ_OFF, digits, 10) == 0;
        }
        if (how == 0) {
            bjson::error_code ec;
            bjson::value v = bjson::parse(text, ec);
            if (ec) fail("invalid JSON: " + ec.message());
            return check(v);
        }
        // A value tree on a stack buffer (spilling to the heap if too small),
        // all freed at once when mr goes out of scope after the check.
        alignas(std::max_align_t) static unsigned char storage[1 << 20];
        bjson::monotonic_resource mr(storage, sizeof storage);
        parser.reset(&mr);
        bjson::error_code ec;
        parser.write(text, ec);
        if (ec) fail("invalid JSON: " + ec.message());
        bjson::value v = parser.release();
        return check(v);
    }

    void read_more() {
        in.clear();
        ws.async_read(in, [this](beast::error_code ec, std::size_t) {
            if (ec) fail("read: " + ec.message());
            if (!ws.got_text() || in.size() != size) fail("echo has the wrong type or length");
            bjson::string_view text(static_cast<const char *>(in.data().data()), in.size());
            if (!parse_and_check(text)) fail("echo mismatch");
            received++;
            if (received < total) read_more();
            write_more();
        });
    }
};

int main(int argc, char **argv) {
    int a = 1, how = 0;
    if (argc > 1 && std::strcmp(argv[1], "--reuse") == 0) how = 1, a++;
    else if (argc > 1 && std::strcmp(argv[1], "--raw") == 0) how = 2, a++;
    if (argc - a != 4 || std::strcmp(argv[a], "json") != 0) {
        std::fprintf(stderr, "usage: beast_json_client [--reuse|--raw] json ws://HOST:PORT/ COUNT SIZE\n");
        return 2;
    }
    Url u = parse_url(argv[a + 1]);
    uint64_t count = num(argv[a + 2]);
    size_t size = num(argv[a + 3]);
    if (size < JSON_MSG_MIN) fail("SIZE must be >= 128");
    if (count == 0 || count > 8000000000ull) fail("COUNT must be 1..8e9");
    try {
        net::io_context ioc;
        tcp::resolver resolver(ioc);
        auto addrs = resolver.resolve(u.host, u.port);
        WS ws(ioc);
        beast::get_lowest_layer(ws).connect(addrs);
        beast::get_lowest_layer(ws).socket().set_option(tcp::no_delay(true));
        ws.read_message_max(size + 1024);
        ws.handshake(u.host + ":" + u.port, u.target);
        ws.text(true);
        Pump p(ws, count, size, how);
        double t0 = now_s();
        p.read_more();
        p.write_more();
        ioc.run();
        double secs = now_s() - t0;
        if (p.received != count) fail("connection ended early");
        beast::error_code ec;
        ws.close(websocket::close_code::normal, ec);
        std::printf("RESULT json msgs=%llu bytes=%llu seconds=%.6f\n", (unsigned long long)count,
                    (unsigned long long)(count * size), secs);
    } catch (const std::exception &e) {
        fail(e.what());
    }
    return 0;
}
