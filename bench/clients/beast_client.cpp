// beast_client.cpp - the `bench` contract on Boost.Beast (Debian
// libboost1.81-dev, Boost 1.81), each mode in Beast's fastest idiom:
//
//   beast_client latency    ws[s]://127.0.0.1:PORT/ COUNT SIZE
//   beast_client throughput ws[s]://127.0.0.1:PORT/ TOTAL_BYTES SIZE
//   beast_client conns      ws[s]://127.0.0.1:PORT/ N
//
// latency: the synchronous API (websocket::stream::write, then read into a
// flat_buffer): one blocking write and one blocking read per round trip.
// throughput: the asynchronous API on one io_context thread, a writer chain
// kept at 64 messages in flight and a reader chain (Beast allows one read and
// one write outstanding at once), every echo checked in order.
// conns: N synchronous handshakes, then VmRSS.
// No extension is offered (permessage-deflate is off by default in Beast).
// wss: TLS via Boost.Asio's OpenSSL stream, the CA from SSL_CERT_FILE,
// peer and host name verified.
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

extern "C" {
#include "bench_util.h"
}

namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace net = boost::asio;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;

[[noreturn]] static void fail(const std::string &why) {
    std::fprintf(stderr, "beast_client: %s\n", why.c_str());
    std::exit(1);
}

static unsigned long long num(const char *s) {
    char *end;
    unsigned long long v = std::strtoull(s, &end, 10);
    if (!*s || *end) fail(std::string("bad number '") + s + "'");
    return v;
}

struct Url {
    bool tls = false;
    std::string host, port, target;
};

static Url parse_url(const std::string &u) {
    Url r;
    std::string rest;
    if (u.rfind("ws://", 0) == 0) rest = u.substr(5);
    else if (u.rfind("wss://", 0) == 0) rest = u.substr(6), r.tls = true;
    else fail("URL must be ws:// or wss://");
    auto slash = rest.find('/');
    std::string hostport = rest.substr(0, slash);
    r.target = slash == std::string::npos ? "/" : rest.substr(slash);
    auto colon = hostport.rfind(':');
    if (colon == std::string::npos) fail("URL needs a port");
    r.host = hostport.substr(0, colon);
    r.port = hostport.substr(colon + 1);
    return r;
}

// One connection, plain or TLS, with the same interface for both.
struct Conn {
    std::unique_ptr<websocket::stream<beast::tcp_stream>> plain;
    std::unique_ptr<websocket::stream<beast::ssl_stream<beast::tcp_stream>>> secure;

    template <class F> auto with(F &&f) { return plain ? f(*plain) : f(*secure); }
};

static Conn open_conn(net::io_context &ioc, ssl::context *ctx, const Url &u, const tcp::resolver::results_type &addrs) {
    Conn c;
    if (!u.tls) {
        c.plain = std::make_unique<websocket::stream<beast::tcp_stream>>(ioc);
        beast::get_lowest_layer(*c.plain).connect(addrs);
        beast::get_lowest_layer(*c.plain).socket().set_option(tcp::no_delay(true));
        c.plain->handshake(u.host + ":" + u.port, u.target);
    } else {
        c.secure = std::make_unique<websocket::stream<beast::ssl_stream<beast::tcp_stream>>>(ioc, *ctx);
        beast::get_lowest_layer(*c.secure).connect(addrs);
        beast::get_lowest_layer(*c.secure).socket().set_option(tcp::no_delay(true));
        if (!SSL_set_tlsext_host_name(c.secure->next_layer().native_handle(), u.host.c_str()))
            fail("SNI failed");
        c.secure->next_layer().set_verify_callback(ssl::host_name_verification(u.host));
        c.secure->next_layer().handshake(ssl::stream_base::client);
        c.secure->handshake(u.host + ":" + u.port, u.target);
    }
    return c;
}

static void latency_msg(std::string &m, uint64_t i, size_t size) {
    char head[16];
    std::snprintf(head, sizeof head, "%08x", unsigned(i));
    for (size_t j = 0; j < size; j++) m[j] = j < 8 ? head[j] : char('a' + j % 26);
}

static void throughput_msg(std::vector<uint8_t> &m, uint64_t i) {
    for (size_t j = 0; j < 8; j++) m[j] = uint8_t(i >> (8 * j));
}

template <class WS> static void run_latency(WS &ws, uint64_t count, size_t size) {
    std::string msg(size, '\0');
    beast::flat_buffer buf;
    ws.text(true);
    double t0 = now_s();
    for (uint64_t i = 0; i < count; i++) {
        latency_msg(msg, i, size);
        ws.write(net::buffer(msg));
        buf.clear();
        ws.read(buf);
        if (!ws.got_text() || buf.size() != size || std::memcmp(buf.data().data(), msg.data(), size) != 0)
            fail("echo mismatch");
    }
    double secs = now_s() - t0;
    std::printf("RESULT latency msgs=%llu bytes=%llu seconds=%.6f\n", (unsigned long long)count,
                (unsigned long long)(count * size), secs);
}

// Throughput: asynchronous writer and reader on one thread.
template <class WS> struct Pump {
    WS &ws;
    uint64_t total, sent = 0, received = 0;
    size_t size;
    std::vector<uint8_t> out, expect;
    beast::flat_buffer in;
    bool writing = false;

    Pump(WS &w, uint64_t n, size_t sz) : ws(w), total(n), size(sz), out(sz), expect(sz) {
        for (size_t j = 8; j < size; j++) out[j] = expect[j] = uint8_t((j * 31 + 7) & 0xff);
    }
    void write_more() {
        if (writing || sent >= total || sent - received >= 64) return;
        writing = true;
        throughput_msg(out, sent);
        ws.async_write(net::buffer(out), [this](beast::error_code ec, std::size_t) {
            if (ec) fail("write: " + ec.message());
            writing = false;
            sent++;
            write_more();
        });
    }
    void read_more() {
        in.clear();
        ws.async_read(in, [this](beast::error_code ec, std::size_t) {
            if (ec) fail("read: " + ec.message());
            throughput_msg(expect, received);
            if (ws.got_text() || in.size() != size || std::memcmp(in.data().data(), expect.data(), size) != 0)
                fail("echo mismatch");
            received++;
            if (received < total) read_more();
            write_more();
        });
    }
};

template <class WS> static void run_throughput(net::io_context &ioc, WS &ws, uint64_t total_bytes, size_t size) {
    if (size < 8) fail("throughput SIZE must be >= 8");
    uint64_t n = (total_bytes + size - 1) / size;
    ws.binary(true);
    Pump<WS> p(ws, n, size);
    double t0 = now_s();
    p.read_more();
    p.write_more();
    ioc.run();
    double secs = now_s() - t0;
    if (p.received != n) fail("connection ended early");
    std::printf("RESULT throughput msgs=%llu bytes=%llu seconds=%.6f\n", (unsigned long long)n,
                (unsigned long long)(n * size), secs);
}

int main(int argc, char **argv) {
    std::string mode = argc > 1 ? argv[1] : "";
    if (argc != (mode == "conns" ? 4 : 5)) {
        std::fprintf(stderr, "usage: beast_client latency URL COUNT SIZE | throughput URL TOTAL SIZE | conns URL N\n");
        return 2;
    }
    Url u = parse_url(argv[2]);
    try {
        net::io_context ioc;
        ssl::context ctx(ssl::context::tls_client);
        if (u.tls) {
            ctx.set_default_verify_paths();
            if (const char *ca = std::getenv("SSL_CERT_FILE")) ctx.load_verify_file(ca);
            ctx.set_verify_mode(ssl::verify_peer);
        }
        tcp::resolver resolver(ioc);
        auto addrs = resolver.resolve(u.host, u.port);
        if (mode == "conns") {
            uint64_t n = num(argv[3]);
            long base = rss_kb();
            std::vector<Conn> conns;
            conns.reserve(n);
            double t0 = now_s();
            for (uint64_t i = 0; i < n; i++) conns.push_back(open_conn(ioc, &ctx, u, addrs));
            double secs = now_s() - t0;
            long rss = rss_kb();
            std::printf("RESULT conns msgs=0 bytes=0 seconds=%.6f conns=%llu rss_base_kb=%ld rss_kb=%ld "
                        "bytes_per_conn=%lld\n",
                        secs, (unsigned long long)n, base, rss,
                        n ? (long long)((rss - base) * 1024 / (long long)n) : 0LL);
            return 0;
        }
        Conn c = open_conn(ioc, &ctx, u, addrs);
        if (mode == "latency") {
            uint64_t count = num(argv[3]);
            size_t size = num(argv[4]);
            if (size < 8) fail("latency SIZE must be >= 8");
            c.with([&](auto &ws) { run_latency(ws, count, size); return 0; });
        } else if (mode == "throughput") {
            uint64_t total = num(argv[3]);
            size_t size = num(argv[4]);
            c.with([&](auto &ws) { run_throughput(ioc, ws, total, size); return 0; });
        } else {
            fail("unknown mode " + mode);
        }
        c.with([&](auto &ws) {
            beast::error_code ec;
            ws.close(websocket::close_code::normal, ec);
            return 0;
        });
    } catch (const std::exception &e) {
        fail(e.what());
    }
    return 0;
}
