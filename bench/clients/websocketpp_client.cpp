// websocketpp_client.cpp - the `bench` contract on websocketpp 0.8.2 (Debian
// libwebsocketpp-dev, header-only, over Boost.Asio 1.81):
//
//   websocketpp_client latency    ws[s]://127.0.0.1:PORT/ COUNT SIZE
//   websocketpp_client throughput ws[s]://127.0.0.1:PORT/ TOTAL_BYTES SIZE
//   websocketpp_client conns      ws[s]://127.0.0.1:PORT/ N
//
// websocketpp has only an asynchronous, handler-based API, so every mode is
// one endpoint on one io_context thread, in the library's fastest idiom for
// that: a config of our own derived from asio_client with concurrency::none
// (no mutexes) and enable_multithreading = false (no strands), all logging
// channels cleared, TCP_NODELAY set in the socket-init handler.
// latency: the message handler checks the echo and sends the next message.
// throughput: the open handler sends 64 messages, each echo (checked in order,
// in full) lets one more go (con->send queues it; websocketpp writes one
// frame batch at a time, reading concurrently).
// conns: N connections opened 64 at a time, then VmRSS.
// No extension is offered (permessage-deflate is a separate, disabled config
// in websocketpp). wss: the asio tls_socket, the CA from SSL_CERT_FILE, peer
// and host name verified.
// Every mode gives up after 30 s without progress.
#include <websocketpp/client.hpp>
#include <websocketpp/config/asio_client.hpp>
#include <websocketpp/config/core_client.hpp>
#include <websocketpp/concurrency/none.hpp>

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

[[noreturn]] static void fail(const std::string &why) {
    std::fprintf(stderr, "websocketpp_client: %s\n", why.c_str());
    std::exit(1);
}

static unsigned long long num(const char *s) {
    char *end;
    unsigned long long v = std::strtoull(s, &end, 10);
    if (!*s || *end) fail(std::string("bad number '") + s + "'");
    return v;
}

// asio_client with the single-thread policies: no locks, no strands.
template <class Socket> struct fast_config : public websocketpp::config::core_client {
    typedef fast_config type;
    typedef websocketpp::config::core_client base;
    typedef websocketpp::concurrency::none concurrency_type;
    typedef base::request_type request_type;
    typedef base::response_type response_type;
    typedef base::message_type message_type;
    typedef base::con_msg_manager_type con_msg_manager_type;
    typedef base::endpoint_msg_manager_type endpoint_msg_manager_type;
    typedef websocketpp::log::basic<concurrency_type, websocketpp::log::elevel> elog_type;
    typedef websocketpp::log::basic<concurrency_type, websocketpp::log::alevel> alog_type;
    typedef websocketpp::random::random_device::int_generator<uint32_t, concurrency_type> rng_type;
    struct transport_config : public base::transport_config {
        typedef type::concurrency_type concurrency_type;
        typedef type::alog_type alog_type;
        typedef type::elog_type elog_type;
        typedef type::request_type request_type;
        typedef type::response_type response_type;
        typedef Socket socket_type;
        static const bool enable_multithreading = false;
    };
    typedef websocketpp::transport::asio::endpoint<transport_config> transport_type;
    static const websocketpp::log::level elog_level = websocketpp::log::elevel::none;
    static const websocketpp::log::level alog_level = websocketpp::log::alevel::none;
};

typedef websocketpp::client<fast_config<websocketpp::transport::asio::basic_socket::endpoint>> plain_client;
typedef websocketpp::client<fast_config<websocketpp::transport::asio::tls_socket::endpoint>> tls_client;
typedef websocketpp::connection_hdl hdl_t;
namespace asio = websocketpp::lib::asio;

static void latency_msg(std::string &m, uint64_t i, size_t size) {
    char head[16];
    std::snprintf(head, sizeof head, "%08x", unsigned(i));
    for (size_t j = 0; j < size; j++) m[j] = j < 8 ? head[j] : char('a' + j % 26);
}

static void throughput_msg(std::vector<uint8_t> &m, uint64_t i) {
    for (size_t j = 0; j < 8; j++) m[j] = uint8_t(i >> (8 * j));
}

template <class Client> struct Bench {
    typedef typename Client::message_ptr message_ptr;
    typedef typename Client::connection_ptr connection_ptr;

    Client c;
    std::string url, mode;
    uint64_t count = 0, sent = 0, received = 0, progress = 0, last_progress = 0;
    size_t size = 0;
    int idle_seconds = 0;
    double t0 = 0;
    std::string text;
    std::vector<uint8_t> out, expect;
    std::vector<connection_ptr> conns; // conns mode: kept open until the report
    uint64_t opened = 0, started = 0;
    bool done = false;

    Bench() {
        c.clear_access_channels(websocketpp::log::alevel::all);
        c.clear_error_channels(websocketpp::log::elevel::all);
        c.init_asio();
        c.set_max_message_size(size_t(1) << 30);
        // after the TCP connect (and before any TLS handshake): Nagle off
        c.set_tcp_pre_init_handler([this](hdl_t h) {
            websocketpp::lib::asio::error_code ec;
            lowest(c.get_con_from_hdl(h)->get_socket()).set_option(asio::ip::tcp::no_delay(true), ec);
            if (ec) fail("TCP_NODELAY: " + ec.message());
        });
        c.set_fail_handler([this](hdl_t h) {
            auto con = c.get_con_from_hdl(h);
            fail("connect: " + con->get_ec().message());
        });
        c.set_close_handler([this](hdl_t) {
            if (!done) fail("connection ended early");
        });
    }
    static asio::ip::tcp::socket &lowest(asio::ip::tcp::socket &s) { return s; }
    static asio::ip::tcp::socket &lowest(asio::ssl::stream<asio::ip::tcp::socket> &s) { return s.next_layer(); }

    connection_ptr connect() {
        websocketpp::lib::error_code ec;
        connection_ptr con = c.get_connection(url, ec);
        if (ec) fail("get_connection: " + ec.message());
        c.connect(con);
        return con;
    }

    // a no-progress watchdog: 30 s without an echo or a handshake is an error
    void watchdog() {
        c.set_timer(1000, [this](websocketpp::lib::error_code const &ec) {
            if (ec || done) return;
            if (progress == last_progress) {
                if (++idle_seconds >= 30) fail("no progress for 30 s");
            } else {
                idle_seconds = 0;
                last_progress = progress;
            }
            watchdog();
        });
    }

    void finish(connection_ptr con) {
        done = true;
        websocketpp::lib::error_code ec;
        con->close(websocketpp::close::status::normal, "", ec);
    }

    void latency(uint64_t n, size_t sz) {
        if (sz < 8) fail("latency SIZE must be >= 8");
        count = n, size = sz;
        text.assign(size, '\0');
        c.set_open_handler([this](hdl_t h) {
            t0 = now_s();
            if (count == 0) return finish(c.get_con_from_hdl(h));
            latency_msg(text, 0, size);
            c.get_con_from_hdl(h)->send(text.data(), size, websocketpp::frame::opcode::text);
            sent = 1;
        });
        c.set_message_handler([this](hdl_t h, message_ptr m) {
            const std::string &p = m->get_payload();
            if (m->get_opcode() != websocketpp::frame::opcode::text || p.size() != size ||
                std::memcmp(p.data(), text.data(), size) != 0)
                fail("echo mismatch");
            received++, progress++;
            connection_ptr con = c.get_con_from_hdl(h);
            if (received == count) {
                double secs = now_s() - t0;
                std::printf("RESULT latency msgs=%llu bytes=%llu seconds=%.6f\n", (unsigned long long)count,
                            (unsigned long long)(count * size), secs);
                std::fflush(stdout);
                return finish(con);
            }
            latency_msg(text, sent++, size);
            con->send(text.data(), size, websocketpp::frame::opcode::text);
        });
        connect();
        watchdog();
        c.run();
        if (received != count) fail("connection ended early");
    }

    void send_more(connection_ptr con) {
        while (sent < count && sent - received < 64) {
            throughput_msg(out, sent++);
            con->send(out.data(), size, websocketpp::frame::opcode::binary);
        }
    }

    void throughput(uint64_t total, size_t sz) {
        if (sz < 8) fail("throughput SIZE must be >= 8");
        size = sz;
        count = (total + size - 1) / size;
        out.assign(size, 0);
        expect.assign(size, 0);
        for (size_t j = 8; j < size; j++) out[j] = expect[j] = uint8_t((j * 31 + 7) & 0xff);
        c.set_open_handler([this](hdl_t h) {
            t0 = now_s();
            connection_ptr con = c.get_con_from_hdl(h);
            if (count == 0) return finish(con);
            send_more(con);
        });
        c.set_message_handler([this](hdl_t h, message_ptr m) {
            const std::string &p = m->get_payload();
            throughput_msg(expect, received);
            if (m->get_opcode() != websocketpp::frame::opcode::binary || p.size() != size ||
                std::memcmp(p.data(), expect.data(), size) != 0)
                fail("echo mismatch");
            received++, progress++;
            connection_ptr con = c.get_con_from_hdl(h);
            if (received == count) {
                double secs = now_s() - t0;
                std::printf("RESULT throughput msgs=%llu bytes=%llu seconds=%.6f\n", (unsigned long long)count,
                            (unsigned long long)(count * size), secs);
                std::fflush(stdout);
                return finish(con);
            }
            send_more(con);
        });
        connect();
        watchdog();
        c.run();
        if (received != count) fail("connection ended early");
    }

    void open_more() {
        while (started < count && started - opened < 64) {
            conns.push_back(connect());
            started++;
        }
    }

    void conns_mode(uint64_t n) {
        count = n;
        long base = rss_kb();
        conns.reserve(n);
        c.set_open_handler([this](hdl_t) {
            opened++, progress++;
            if (opened == count) c.stop();
            else open_more();
        });
        c.set_message_handler([](hdl_t, message_ptr) { fail("unexpected message"); });
        t0 = now_s();
        if (n) {
            open_more();
            watchdog();
            c.run();
        }
        double secs = now_s() - t0;
        if (opened != n) fail("connection ended early");
        long rss = rss_kb();
        std::printf("RESULT conns msgs=0 bytes=0 seconds=%.6f conns=%llu rss_base_kb=%ld rss_kb=%ld "
                    "bytes_per_conn=%lld\n",
                    secs, (unsigned long long)n, base, rss, n ? (long long)((rss - base) * 1024 / (long long)n) : 0LL);
        std::fflush(stdout);
        std::_Exit(0); // the N connections stay open until the report; no closing handshakes to wait for
    }

    int main(const std::string &m, char **argv) {
        mode = m;
        if (mode == "conns") conns_mode(num(argv[3]));
        else if (mode == "latency") latency(num(argv[3]), num(argv[4]));
        else if (mode == "throughput") throughput(num(argv[3]), num(argv[4]));
        else fail("unknown mode " + mode);
        return 0;
    }
};

int main(int argc, char **argv) {
    std::string mode = argc > 1 ? argv[1] : "";
    if (argc != (mode == "conns" ? 4 : 5)) {
        std::fprintf(stderr,
                     "usage: websocketpp_client latency URL COUNT SIZE | throughput URL TOTAL SIZE | conns URL N\n");
        return 2;
    }
    std::string url = argv[2];
    try {
        if (url.rfind("ws://", 0) == 0) {
            auto b = std::make_unique<Bench<plain_client>>();
            b->url = url;
            return b->main(mode, argv);
        }
        if (url.rfind("wss://", 0) != 0) fail("URL must be ws:// or wss://");
        auto b = std::make_unique<Bench<tls_client>>();
        b->url = url;
        std::string host = url.substr(6, url.find_first_of(":/", 6) - 6);
        // one context for every connection (websocketpp's examples make one
        // per connection: the CA store is then loaded N times, about 120 KB each)
        auto ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
        ctx->set_default_verify_paths();
        if (const char *ca = std::getenv("SSL_CERT_FILE")) ctx->load_verify_file(ca);
        ctx->set_verify_mode(asio::ssl::verify_peer);
        ctx->set_verify_callback(asio::ssl::host_name_verification(host));
        b->c.set_tls_init_handler([ctx](hdl_t) { return ctx; });
        return b->main(mode, argv);
    } catch (const std::exception &e) {
        fail(e.what());
    }
}
