"""Client-mode test cases of an Autobahn|Testsuite-style fuzzing server.

Every case of Autobahn's fuzzingserver (client mode) in categories 1-7, 9, 10,
12 and 13 is reproduced here: same ids (1.1.1 ... 13.7.18), same order, same
descriptions and expectations, the same frames sent with the same timing
(kill_after / close_after / continue_later, chopped and "sync" writes) and the
same grading (expected event sequences with OK / NON-STRICT alternatives,
expected close behaviour, INFORMATIONAL and UNIMPLEMENTED outcomes).

A case object lives for one connection.  The connection object (``p``, see
fuzzingserver.FuzzConn) offers the primitives Autobahn's cases use:
send_frame(), send_message(), the streaming API (begin_message ...),
send_close(), send_close_frame(), kill_after(), close_after(),
continue_later(), plus the protocol state flags the grading looks at.
"""

import binascii
import hashlib

import testdata

# --------------------------------------------------------------------------
# outcomes (the strings Autobahn uses in its reports)
OK = "OK"
NON_STRICT = "NON-STRICT"
FAILED = "FAILED"
WRONG_CODE = "WRONG CODE"
UNCLEAN = "UNCLEAN"
FAILED_BY_CLIENT = "FAILED BY CLIENT"
INFORMATIONAL = "INFORMATIONAL"
UNIMPLEMENTED = "UNIMPLEMENTED"

# close status codes
CLOSE_NORMAL = 1000
CLOSE_GOING_AWAY = 1001
CLOSE_PROTOCOL_ERROR = 1002
CLOSE_INVALID_PAYLOAD = 1007

CATEGORIES = {
    "1": "Framing",
    "2": "Pings/Pongs",
    "3": "Reserved Bits",
    "4": "Opcodes",
    "5": "Fragmentation",
    "6": "UTF-8 Handling",
    "7": "Close Handling",
    "9": "Limits/Performance",
    "10": "Misc",
    "12": "WebSocket Compression (different payloads)",
    "13": "WebSocket Compression (different parameters)",
}

SUBCATEGORIES = {
    "1.1": "Text Messages",
    "1.2": "Binary Messages",
    "4.1": "Non-control Opcodes",
    "4.2": "Control Opcodes",
    "6.1": "Valid UTF-8 with zero payload fragments",
    "6.2": "Valid UTF-8 unfragmented, fragmented on code-points and within code-points",
    "6.3": "Invalid UTF-8 differently fragmented",
    "6.4": "Fail-fast on invalid UTF-8",
    "7.1": "Basic close behavior (fuzzer initiated)",
    "7.3": "Close frame structure: payload length (fuzzer initiated)",
    "7.5": "Close frame structure: payload value (fuzzer initiated)",
    "7.7": "Close frame structure: valid close codes (fuzzer initiated)",
    "7.9": "Close frame structure: invalid close codes (fuzzer initiated)",
    "7.13": "Informational close information (fuzzer initiated)",
    "9.1": "Text Message (increasing size)",
    "9.2": "Binary Message (increasing size)",
    "9.3": "Fragmented Text Message (fixed size, increasing fragment size)",
    "9.4": "Fragmented Binary Message (fixed size, increasing fragment size)",
    "9.5": "Text Message (fixed size, increasing chop size)",
    "9.6": "Binary Text Message (fixed size, increasing chop size)",
    "9.7": "Text Message Roundtrip Time (fixed number, increasing size)",
    "9.8": "Binary Message Roundtrip Time (fixed number, increasing size)",
    "10.1": "Auto-Fragmentation",
}


def hexs(b):
    return binascii.b2a_hex(b).decode("ascii")


# --------------------------------------------------------------------------
class Case:
    """Base class: the grading logic of Autobahn's case.py."""

    ID = None
    DESCRIPTION = ""
    EXPECTATION = ""
    # Longest time the case's own timers can keep the connection open after
    # the opening handshake (used by the driver only as a safety bound).
    MAX_DURATION = 2.0
    # timing-sensitive cases are run while no other case runs
    SERIAL = False
    # CPU/bandwidth heavy cases run with limited parallelism
    HEAVY = False

    def __init__(self, p):
        self.p = p
        self.received = []
        self.expected = {}
        self.expected_close = {}
        self.behavior = FAILED
        self.behavior_close = FAILED
        self.result = "Actual events differ from any expected."
        self.result_close = "TCP connection was dropped without close handshake"
        self.report_time = False
        self.suppress_close = False
        self.traffic = None
        self.init()

    # permessage-deflate: offers -> accept (None declines); see fuzzingserver
    def pmce_accept(self, offers):
        return None

    def init(self):
        pass

    def on_open(self):
        pass

    def on_message(self, payload, binary):
        self.received.append(("message", payload, binary))
        self.finish_when_done()

    def on_pong(self, payload):
        self.received.append(("pong", payload))
        self.finish_when_done()

    def finish_when_done(self):
        # Autobahn starts the closing handshake only when the events received
        # so far equal *every* expected alternative.
        for exp in self.expected.values():
            if self.received != exp:
                return
        if self.expected_close.get("closedByMe") and not self.suppress_close:
            self.p.send_close(self.expected_close["closeCode"][0])

    def on_connection_lost(self):
        p = self.p
        for name, exp in self.expected.items():
            if self.received == exp:
                self.behavior = name
                self.result = "Actual events match at least one expected."
                break
        if p.connection_was_open:
            ec = self.expected_close
            if ec["closedByMe"] != p.closed_by_me:
                self.behavior_close = FAILED
                self.result_close = "The connection was failed by the wrong endpoint"
            elif ec["requireClean"] and not p.was_clean:
                self.behavior_close = UNCLEAN
                self.result_close = "The spec requires the connection to be failed cleanly here"
            elif p.remote_close_code is not None and p.remote_close_code not in ec["closeCode"]:
                self.behavior_close = WRONG_CODE
                self.result_close = "The close code should have been %s or empty" % ",".join(
                    str(c) for c in ec["closeCode"])
            elif not getattr(p, "IS_SERVER", True) and p.dropped_by_me:
                # server mode (fuzzingclient.py): the server closes the TCP connection
                self.behavior_close = FAILED_BY_CLIENT
                self.result_close = "It is preferred that the server close the TCP connection"
            else:
                self.behavior_close = OK
                self.result_close = "Connection was properly closed"
            # UTF-8 cases: the peer closing where it should have failed means
            # it did not detect the invalid UTF-8 at all
            if ec.get("closedByWrongEndpointIsFatal") and ec["closedByMe"] != p.closed_by_me:
                self.behavior = FAILED
        else:
            self.behavior_close = FAILED
            self.result_close = "The WebSocket opening handshake was never completed!"
        self.post_grade()

    def post_grade(self):
        pass


def expect_close(closed_by_me, codes, require_clean, wrong_endpoint_fatal=None):
    d = {"closedByMe": closed_by_me, "closeCode": list(codes), "requireClean": require_clean}
    if wrong_endpoint_fatal is not None:
        d["closedByWrongEndpointIsFatal"] = wrong_endpoint_fatal
    return d


class WrongCodeIsFailure(Case):
    """Category 7: a wrong close code also fails the case's behaviour."""

    def post_grade(self):
        if self.behavior_close == WRONG_CODE:
            self.behavior = FAILED
            self.result = self.result_close


CASES = []          # ordered list of case classes
_BY_ID = {}


def register(cls):
    assert cls.ID not in _BY_ID, cls.ID
    _BY_ID[cls.ID] = cls
    CASES.append(cls)
    return cls


def case(case_id, description, expectation, base=Case, **attrs):
    """Decorator: turn an on_open function into a registered case class."""
    def deco(fn):
        ns = dict(attrs)
        ns.update(ID=case_id, DESCRIPTION=description, EXPECTATION=expectation, on_open=fn)
        cls = type("Case_" + case_id.replace(".", "_"), (base,), ns)
        return register(cls)
    return deco


# ==========================================================================
# 1 Framing
def _framing(cid, opcode, size, desc, exp, chop=None):
    payload = (b"*" if opcode == 1 else b"\xfe") * size
    kill = 1 if size <= 128 else 10

    def on_open(c):
        c.expected[OK] = [("message", payload, opcode == 2)]
        c.expected_close = expect_close(True, [CLOSE_NORMAL], True)
        c.p.send_frame(opcode=opcode, payload=payload, chopsize=chop)
        c.p.kill_after(kill)
    case(cid, desc, exp, MAX_DURATION=kill)(on_open)


for _kind, _op, _sub in (("text", 1, "1.1"), ("binary", 2, "1.2")):
    _framing(_sub + ".1", _op, 0, "Send %s message with payload 0." % _kind,
             "Receive echo'ed %s message (with empty payload). Clean close with normal code." % _kind)
    for _i, _n in enumerate((125, 126, 127, 128, 65535, 65536)):
        _framing("%s.%d" % (_sub, _i + 2), _op, _n,
                 "Send %s message message with payload of length %d." % (_kind, _n),
                 "Receive echo'ed %s message (with payload as sent). Clean close with normal code." % _kind)
    _framing(_sub + ".8", _op, 65536,
             "Send %s message message with payload of length 65536. Sent out data in chops of 997 octets." % _kind,
             "Receive echo'ed %s message (with payload as sent). Clean close with normal code." % _kind,
             chop=997)


# ==========================================================================
# 2 Pings/Pongs
def _ping_case(cid, desc, exp, payload, chop=None, close_after=1):
    def on_open(c):
        c.expected[OK] = [("pong", payload)]
        c.expected_close = expect_close(True, [CLOSE_NORMAL], True)
        c.p.send_frame(opcode=9, payload=payload, chopsize=chop)
        c.p.close_after(close_after)
    case(cid, desc, exp, MAX_DURATION=close_after)(on_open)


_ping_case("2.1", "Send ping without payload.",
           "Pong (with empty payload) is sent in reply to Ping. Clean close with normal code.", b"")
_ping_case("2.2", "Send ping with small text payload.",
           "Pong with payload echo'ed is sent in reply to Ping. Clean close with normal code.", b"Hello, world!")
_ping_case("2.3", "Send ping with small binary (non UTF-8) payload.",
           "Pong with payload echo'ed is sent in reply to Ping. Clean close with normal code.",
           b"\x00\xff\xfe\xfd\xfc\xfb\x00\xff")
_ping_case("2.4", "Send ping with binary payload of 125 octets.",
           "Pong with payload echo'ed is sent in reply to Ping. Clean close with normal code.", b"\xfe" * 125)


@case("2.5", "Send ping with binary payload of 126 octets.",
      "Connection is failed immediately (1002/Protocol Error), since control frames are only allowed to have "
      "payload up to and including 125 octets..", MAX_DURATION=1)
def _(c):
    c.expected[OK] = []
    c.expected_close = expect_close(False, [CLOSE_PROTOCOL_ERROR], False)
    c.p.send_frame(opcode=9, payload=b"\xfe" * 126)
    c.p.kill_after(1)


_ping_case("2.6", "Send ping with binary payload of 125 octets, send in octet-wise chops.",
           "Pong with payload echo'ed is sent in reply to Ping. Implementations must be TCP clean. "
           "Clean close with normal code.", b"\xfe" * 125, chop=1, close_after=2)


def _unsolicited_pong(cid, desc, payload):
    def on_open(c):
        c.expected[OK] = []
        c.expected_close = expect_close(True, [CLOSE_NORMAL], True)
        c.p.send_frame(opcode=10, payload=payload)
        c.p.send_close(CLOSE_NORMAL)
        c.p.close_after(1)
    case(cid, desc, "Nothing.", MAX_DURATION=1)(on_open)


_unsolicited_pong("2.7", "Send unsolicited pong without payload. Verify nothing is received. "
                  "Clean close with normal code.", b"")
_unsolicited_pong("2.8", "Send unsolicited pong with payload. Verify nothing is received. "
                  "Clean close with normal code.", b"unsolicited pong payload")


@case("2.9", "Send unsolicited pong with payload. Send ping with payload. Verify pong for ping is received.",
      "Nothing in reply to own Pong, but Pong with payload echo'ed in reply to Ping. Clean close with normal code.",
      MAX_DURATION=1)
def _(c):
    payload = b"ping payload"
    c.expected[OK] = [("pong", payload)]
    c.expected_close = expect_close(True, [CLOSE_NORMAL], True)
    c.p.send_frame(opcode=10, payload=b"unsolicited pong payload")
    c.p.send_frame(opcode=9, payload=payload)
    c.p.close_after(1)


def _ten_pings(cid, desc, chop):
    def on_open(c):
        c.expected[OK] = []
        for i in range(10):
            payload = b"payload-%d" % i
            c.expected[OK].append(("pong", payload))
            c.p.send_frame(opcode=9, payload=payload, chopsize=chop)
        c.expected_close = expect_close(True, [CLOSE_NORMAL], True)
        c.p.close_after(3)
    case(cid, desc, "Pongs for our Pings with all the payloads. Note: This is not required by the Spec .. "
         "but we check for this behaviour anyway. Clean close with normal code.",
         MAX_DURATION=3, SERIAL=True)(on_open)


_ten_pings("2.10", "Send 10 Pings with payload.", None)
_ten_pings("2.11", "Send 10 Pings with payload. Send out octets in octet-wise chops.", 1)


# ==========================================================================
# 3 Reserved bits
def _fail_case(cid, desc, exp, frames, ok_echo=None, codes=(CLOSE_PROTOCOL_ERROR,)):
    """Peer must fail the connection; optionally an echo of a first message
    is expected (OK) while failing before it is NON-STRICT."""
    def on_open(c):
        if ok_echo is None:
            c.expected[OK] = []
        else:
            c.expected[OK] = [("message", ok_echo, False)]
            c.expected[NON_STRICT] = []
        c.expected_close = expect_close(False, codes, False)
        for f in frames:
            c.p.send_frame(**f)
        c.p.kill_after(1)
    case(cid, desc, exp, MAX_DURATION=1)(on_open)


_HW = b"Hello, world!"
_RSV_FAIL = ("Echo for first message is received, but then connection is failed immediately, since RSV must be 0, "
             "when no extension defining RSV meaning has been negotiated. The Pong is not received.")

_fail_case("3.1", "Send small text message with <b>RSV = 1</b>.",
           "The connection is failed immediately (1002/protocol error), since RSV must be 0, when no extension "
           "defining RSV meaning has been negotiated.",
           [dict(opcode=1, payload=_HW, rsv=1)])
_fail_case("3.2", "Send small text message, then send again with <b>RSV = 2</b>, then send Ping.", _RSV_FAIL,
           [dict(opcode=1, payload=_HW), dict(opcode=1, payload=_HW, rsv=2), dict(opcode=9)], ok_echo=_HW)
_fail_case("3.3", "Send small text message, then send again with <b>RSV = 3</b>, then send Ping. Octets are sent "
           "in frame-wise chops. Octets are sent in octet-wise chops.", _RSV_FAIL,
           [dict(opcode=1, payload=_HW, sync=True), dict(opcode=1, payload=_HW, rsv=3, sync=True),
            dict(opcode=9, sync=True)], ok_echo=_HW)
_fail_case("3.4", "Send small text message, then send again with <b>RSV = 4</b>, then send Ping. Octets are sent "
           "in octet-wise chops.", _RSV_FAIL,
           [dict(opcode=1, payload=_HW, chopsize=1), dict(opcode=1, payload=_HW, rsv=4, chopsize=1),
            dict(opcode=9, chopsize=1)], ok_echo=_HW)
_fail_case("3.5", "Send small binary message with <b>RSV = 5</b>.",
           "The connection is failed immediately, since RSV must be 0.",
           [dict(opcode=2, payload=b"\x00\xff\xfe\xfd\xfc\xfb\x00\xff", rsv=5)])
# (sic: Autobahn's 3.6 says "Ping" but sends a binary frame)
_fail_case("3.6", "Send Ping with <b>RSV = 6</b>.", "The connection is failed immediately, since RSV must be 0.",
           [dict(opcode=2, payload=_HW, rsv=6)])
_fail_case("3.7", "Send Close with <b>RSV = 7</b>.", "The connection is failed immediately, since RSV must be 0.",
           [dict(opcode=8, rsv=7)])


# ==========================================================================
# 4 Opcodes
_OP_FAIL = ("Echo for first message is received, but then connection is failed immediately, since reserved "
            "opcode frame is used. A Pong is not received.")
for _base, _ops in (("4.1", (3, 4, 5, 6, 7)), ("4.2", (11, 12, 13, 14, 15))):
    _kind = "non-control" if _base == "4.1" else "control"
    _fail_case(_base + ".1", "Send frame with reserved %s <b>Opcode = %d</b>." % (_kind, _ops[0]),
               "The connection is failed immediately.", [dict(opcode=_ops[0])])
    _fail_case(_base + ".2", "Send frame with reserved %s <b>Opcode = %d</b> and non-empty payload." % (_kind, _ops[1]),
               "The connection is failed immediately.",
               [dict(opcode=_ops[1], payload=b"reserved opcode payload")])
    _fail_case(_base + ".3", "Send small text message, then send frame with reserved %s <b>Opcode = %d</b>, then "
               "send Ping." % (_kind, _ops[2]), _OP_FAIL,
               [dict(opcode=1, payload=_HW), dict(opcode=_ops[2]), dict(opcode=9)], ok_echo=_HW)
    _fail_case(_base + ".4", "Send small text message, then send frame with reserved %s <b>Opcode = %d</b> and "
               "non-empty payload, then send Ping." % (_kind, _ops[3]), _OP_FAIL,
               [dict(opcode=1, payload=_HW), dict(opcode=_ops[3], payload=_HW), dict(opcode=9)], ok_echo=_HW)
    _fail_case(_base + ".5", "Send small text message, then send frame with reserved %s <b>Opcode = %d</b> and "
               "non-empty payload, then send Ping." % (_kind, _ops[4]), _OP_FAIL,
               [dict(opcode=1, payload=_HW, chopsize=1), dict(opcode=_ops[4], payload=_HW, chopsize=1),
                dict(opcode=9, chopsize=1)], ok_echo=_HW)


# ==========================================================================
# 5 Fragmentation
_NOTHING_TO_CONTINUE = "The connection is failed immediately, since there is no message to continue."
_fail_case("5.1", "Send Ping fragmented into 2 fragments.",
           "Connection is failed immediately, since control message MUST NOT be fragmented.",
           [dict(opcode=9, fin=False, payload=b"fragment1"), dict(opcode=0, fin=True, payload=b"fragment2")])
_fail_case("5.2", "Send Pong fragmented into 2 fragments.",
           "Connection is failed immediately, since control message MUST NOT be fragmented.",
           [dict(opcode=10, fin=False, payload=b"fragment1"), dict(opcode=0, fin=True, payload=b"fragment2")])


def _two_fragments(cid, desc, ping, **wire):
    def on_open(c):
        frags = [b"fragment1", b"fragment2"]
        if ping:
            c.expected[OK] = [("pong", b"ping payload"), ("message", b"".join(frags), False)]
        else:
            c.expected[OK] = [("message", b"".join(frags), False)]
        c.expected_close = expect_close(True, [CLOSE_NORMAL], True)
        c.p.send_frame(opcode=1, fin=False, payload=frags[0], **wire)
        if ping:
            c.p.send_frame(opcode=9, fin=True, payload=b"ping payload", **wire)
        c.p.send_frame(opcode=0, fin=True, payload=frags[1], **wire)
        c.p.close_after(1)
    exp = ("A pong is received, then the message is echo'ed back to us." if ping
           else "Message is processed and echo'ed back to us.")
    case(cid, desc, exp, MAX_DURATION=1)(on_open)


_two_fragments("5.3", "Send text Message fragmented into 2 fragments.", False)
_two_fragments("5.4", "Send text Message fragmented into 2 fragments, octets are sent in frame-wise chops.",
               False, sync=True)
_two_fragments("5.5", "Send text Message fragmented into 2 fragments, octets are sent in octet-wise chops.",
               False, chopsize=1)
_two_fragments("5.6", "Send text Message fragmented into 2 fragments, one ping with payload in-between.", True)
_two_fragments("5.7", "Send text Message fragmented into 2 fragments, one ping with payload in-between. Octets "
               "are sent in frame-wise chops.", True, sync=True)
_two_fragments("5.8", "Send text Message fragmented into 2 fragments, one ping with payload in-between. Octets "
               "are sent in octet-wise chops.", True, chopsize=1)

for _n, (_fin, _how, _wire) in enumerate([(True, "one chop", {}), (True, "per-frame chops", {"sync": True}),
                                          (True, "octet-wise chops", {"chopsize": 1}),
                                          (False, "one chop", {}), (False, "per-frame chops", {"sync": True}),
                                          (False, "octet-wise chops", {"chopsize": 1})]):
    _fail_case("5.%d" % (9 + _n),
               "Send unfragmented Text Message after Continuation Frame with FIN = %s, where there is nothing to "
               "continue, sent in %s." % ("true" if _fin else "false", _how), _NOTHING_TO_CONTINUE,
               [dict(opcode=0, fin=_fin, payload=b"non-continuation payload", **_wire),
                dict(opcode=1, fin=True, payload=_HW, **_wire)])

_fail_case("5.15", "Send text Message fragmented into 2 fragments, then Continuation Frame with FIN = false where "
           "there is nothing to continue, then unfragmented Text Message, all sent in one chop.",
           _NOTHING_TO_CONTINUE,
           [dict(opcode=1, fin=False, payload=b"fragment1"), dict(opcode=0, fin=True, payload=b"fragment2"),
            dict(opcode=0, fin=False, payload=b"fragment3"), dict(opcode=1, fin=True, payload=b"fragment4")],
           ok_echo=b"fragment1fragment2")
for _cid, _fin, _word in (("5.16", False, "false"), ("5.17", True, "true")):
    _fail_case(_cid, "Repeated 2x: Continuation Frame with FIN = %s (where there is nothing to continue), then "
               "text Message fragmented into 2 fragments." % _word, _NOTHING_TO_CONTINUE,
               [dict(opcode=0, fin=_fin, payload=b"fragment1"), dict(opcode=1, fin=False, payload=b"fragment2"),
                dict(opcode=0, fin=True, payload=b"fragment3")] * 2)
_fail_case("5.18", "Send text Message fragmented into 2 fragments, with both frame opcodes set to text, sent in "
           "one chop.", "The connection is failed immediately, since all data frames after the initial data "
           "frame must have opcode 0.",
           [dict(opcode=1, fin=False, payload=b"fragment1"), dict(opcode=1, fin=True, payload=b"fragment2")])


class _Case5_19(Case):
    MAX_DURATION = 2
    SERIAL = True
    SYNC = False
    FRAGMENTS = [b"fragment1", b"fragment2", b"fragment3", b"fragment4", b"fragment5"]
    PINGS = [b"pongme 1!", b"pongme 2!"]

    def on_open(self):
        self.expected[OK] = [("pong", self.PINGS[0]), ("pong", self.PINGS[1]),
                             ("message", b"".join(self.FRAGMENTS), False)]
        self.expected_close = expect_close(True, [CLOSE_NORMAL], True)
        s = self.SYNC
        self.p.send_frame(opcode=1, fin=False, payload=self.FRAGMENTS[0], sync=s)
        self.p.send_frame(opcode=0, fin=False, payload=self.FRAGMENTS[1], sync=s)
        self.p.send_frame(opcode=9, fin=True, payload=self.PINGS[0], sync=s)
        self.p.continue_later(1, self.part2)

    def part2(self):
        s = self.SYNC
        self.p.send_frame(opcode=0, fin=False, payload=self.FRAGMENTS[2], sync=s)
        self.p.send_frame(opcode=0, fin=False, payload=self.FRAGMENTS[3], sync=s)
        self.p.send_frame(opcode=9, fin=True, payload=self.PINGS[1], sync=s)
        self.p.send_frame(opcode=0, fin=True, payload=self.FRAGMENTS[4], sync=s)
        self.p.close_after(1)


register(type("Case_5_19", (_Case5_19,), dict(
    ID="5.19",
    DESCRIPTION="""A fragmented text message is sent in multiple frames. After
   sending the first 2 frames of the text message, a Ping is sent. Then we wait 1s,
   then we send 2 more text fragments, another Ping and then the final text fragment.
   Everything is legal.""",
    EXPECTATION="""The peer immediately answers the first Ping before
   it has received the last text message fragment. The peer pong's back the Ping's
   payload exactly, and echo's the payload of the fragmented message back to us.""")))
register(type("Case_5_20", (_Case5_19,), dict(
    ID="5.20", SYNC=True,
    DESCRIPTION="""Same as Case 5.19, but send all frames with SYNC = True.
   Note, this does not change the octets sent in any way, only how the stream
   is chopped up on the wire.""",
    EXPECTATION="""Same as Case 5.19. Implementations must be agnostic to how
   octet stream is chopped up on wire (must be TCP clean).""")))


# ==========================================================================
# 6 UTF-8 handling
def _valid_echo(c, payload):
    c.expected[OK] = [("message", payload, False)]
    c.expected_close = expect_close(True, [CLOSE_NORMAL], True)


def _invalid_fail(c):
    c.expected[OK] = []
    c.expected_close = expect_close(False, [CLOSE_INVALID_PAYLOAD], False, wrong_endpoint_fatal=True)


@case("6.1.1", "Send text message of length 0.", "A message is echo'ed back to us (with empty payload).")
def _(c):
    _valid_echo(c, b"")
    c.p.send_frame(opcode=1, payload=b"")
    c.p.close_after(1)


@case("6.1.2", "Send fragmented text message, 3 fragments each of length 0.",
      "A message is echo'ed back to us (with empty payload).")
def _(c):
    _valid_echo(c, b"")
    c.p.send_frame(opcode=1, fin=False, payload=b"")
    c.p.send_frame(opcode=0, fin=False, payload=b"")
    c.p.send_frame(opcode=0, fin=True, payload=b"")
    c.p.close_after(1)


@case("6.1.3", "Send fragmented text message, 3 fragments, first and last of length 0, middle non-empty.",
      "A message is echo'ed back to us (with payload = payload of middle fragment).")
def _(c):
    payload = b"middle frame payload"
    _valid_echo(c, payload)
    c.p.send_frame(opcode=1, fin=False, payload=b"")
    c.p.send_frame(opcode=0, fin=False, payload=payload)
    c.p.send_frame(opcode=0, fin=True, payload=b"")
    c.p.close_after(1)


_HELLO_UTF8 = "Hello-µ@ßöäüàá-UTF-8!!".encode("utf-8")
_KOSME = b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5"


def _msg_block(b):
    return "%s<br>%s" % (b.decode("utf-8"), hexs(b))


@case("6.2.1", "Send a valid UTF-8 text message in one fragment.<br><br>MESSAGE:<br>%s" % _msg_block(_HELLO_UTF8),
      "The message is echo'ed back to us.")
def _(c):
    _valid_echo(c, _HELLO_UTF8)
    c.p.send_message(_HELLO_UTF8, binary=False)
    c.p.close_after(1)


_P1, _P2 = "Hello-µ@ßöä".encode("utf-8"), "üàá-UTF-8!!".encode("utf-8")


@case("6.2.2", "Send a valid UTF-8 text message in two fragments, fragmented on UTF-8 code point boundary."
      "<br><br>MESSAGE FRAGMENT 1:<br>%s<br><br>MESSAGE FRAGMENT 2:<br>%s" % (_msg_block(_P1), _msg_block(_P2)),
      "The message is echo'ed back to us.")
def _(c):
    _valid_echo(c, _P1 + _P2)
    c.p.send_frame(opcode=1, fin=False, payload=_P1)
    c.p.send_frame(opcode=0, fin=True, payload=_P2)
    c.p.close_after(1)


for _cid, _pl in (("6.2.3", _HELLO_UTF8), ("6.2.4", _KOSME)):
    def _mk(pl):
        def on_open(c):
            _valid_echo(c, pl)
            c.p.send_message(pl, binary=False, fragment_size=1)
            c.p.close_after(1)
        return on_open
    case(_cid, "Send a valid UTF-8 text message in fragments of 1 octet, resulting in frames ending on positions "
         "which are not code point ends.<br><br>MESSAGE:<br>%s" % _msg_block(_pl),
         "The message is echo'ed back to us.")(_mk(_pl))

_INVALID_631 = _KOSME + b"\xed\xa0\x80" + b"\x65\x64\x69\x74\x65\x64"


@case("6.3.1", "Send invalid UTF-8 text message unfragmented.<br><br>MESSAGE:<br>%s" % hexs(_INVALID_631),
      "The connection is failed immediately, since the payload is not valid UTF-8.", MAX_DURATION=1)
def _(c):
    _invalid_fail(c)
    c.p.send_message(_INVALID_631, binary=False)
    c.p.kill_after(1)


@case("6.3.2", "Send invalid UTF-8 text message in fragments of 1 octet, resulting in frames ending on positions "
      "which are not code point ends.<br><br>MESSAGE:<br>%s" % hexs(_INVALID_631),
      "The connection is failed immediately, since the payload is not valid UTF-8.", MAX_DURATION=1)
def _(c):
    _invalid_fail(c)
    c.p.send_message(_INVALID_631, binary=False, fragment_size=1)
    c.p.kill_after(1)


class _FailFast(Case):
    """6.4.x: the invalid part arrives after a pause; failing right then is OK,
    failing only when the message is complete is NON-STRICT."""
    MAX_DURATION = 3
    SERIAL = True
    PAYLOAD1 = _KOSME
    PAYLOAD2 = b"\xf4\x90\x80\x80"       # 0x110000: out of range
    PAYLOAD3 = b"\x65\x64\x69\x74\x65\x64"
    PAYLOAD = PAYLOAD1 + PAYLOAD2 + PAYLOAD3
    PARTS = None            # (part1, part2, part3)
    STREAMING = False       # one frame sent in chops instead of 3 frames

    def on_open(self):
        self.expected[OK] = [("timeout", "A")]
        self.expected[NON_STRICT] = [("timeout", "A"), ("timeout", "B")]
        self.expected_close = expect_close(False, [CLOSE_INVALID_PAYLOAD], False, wrong_endpoint_fatal=True)
        if self.STREAMING:
            self.p.begin_message()
            self.p.begin_message_frame(len(self.PAYLOAD))
            self.p.send_message_frame_data(self.PARTS[0])
        else:
            self.p.send_frame(opcode=1, fin=False, payload=self.PARTS[0])
        self.p.continue_later(1, self.part2, "A")

    def part2(self):
        if self.p.state == self.p.STATE_OPEN:
            self.received.append(("timeout", "A"))
            if self.STREAMING:
                self.p.send_message_frame_data(self.PARTS[1])
            else:
                self.p.send_frame(opcode=0, fin=False, payload=self.PARTS[1])
            self.p.continue_later(1, self.part3, "B")

    def part3(self):
        if self.p.state == self.p.STATE_OPEN:
            self.received.append(("timeout", "B"))
            if self.STREAMING:
                self.p.send_message_frame_data(self.PARTS[2])
                self.p.end_message()
            else:
                self.p.send_frame(opcode=0, fin=True, payload=self.PARTS[2])
            self.p.kill_after(1)


_FF_EXPECT = ("The first %s is accepted, we expect to timeout on the first wait. The 2nd %s should be rejected "
              "immediately (fail fast on UTF-8). If we timeout, we expect the connection is failed at least then, "
              "since the complete message payload is not valid UTF-8.")
_FF_PARTS = "<br><br>MESSAGE PARTS:<br>\nPART1 = %s<br>\nPART2 = %s<br>\nPART3 = %s<br>\n"
_PL = _FailFast.PAYLOAD
for _cid, _parts, _stream, _desc, _exp in (
        ("6.4.1", (_FailFast.PAYLOAD1, _FailFast.PAYLOAD2, _FailFast.PAYLOAD3), False,
         "Send invalid UTF-8 text message in 3 fragments (frames).\nFirst frame payload is valid, then wait, then "
         "2nd frame which contains the payload making the sequence invalid, then wait, then 3rd frame with rest.\n"
         "Note that PART1 and PART3 are valid UTF-8 in themselves, PART2 is a 0x110000 encoded as in the UTF-8 "
         "integer encoding scheme, but the codepoint is invalid (out of range).\n",
         _FF_EXPECT % ("frame", "frame")),
        ("6.4.2", (_PL[:12], _PL[12:13], _PL[13:]), False,
         "Same as Case 6.4.1, but in 2nd frame, we send only up to and including the octet making the complete "
         "payload invalid.\n", _FF_EXPECT % ("frame", "frame")),
        ("6.4.3", (_FailFast.PAYLOAD1, _FailFast.PAYLOAD2, _FailFast.PAYLOAD3), True,
         "Same as Case 6.4.1, but we send message not in 3 frames, but in 3 chops of the same message frame.\n",
         _FF_EXPECT % ("chop", "chop")),
        ("6.4.4", (_PL[:12], _PL[12:13], _PL[13:]), True,
         "Same as Case 6.4.2, but we send message not in 3 frames, but in 3 chops of the same message frame.\n",
         _FF_EXPECT % ("chop", "chop"))):
    # (sic: Autobahn's 6.4.4 description prints an empty PART3)
    _shown3 = b"" if _cid == "6.4.4" else _parts[2]
    register(type("Case_" + _cid.replace(".", "_"), (_FailFast,), dict(
        ID=_cid, PARTS=_parts, STREAMING=_stream,
        DESCRIPTION=_desc + _FF_PARTS % (hexs(_parts[0]), hexs(_parts[1]), hexs(_shown3)),
        EXPECTATION=_exp)))


def _utf8_valid(b):
    try:
        b.decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False


def utf8_test_sequences():
    """The UTF-8 decoder test sequences (after Markus Kuhn's UTF-8-test.txt)
    in Autobahn's order: list of (title, [(valid, bytes), ...])."""
    seqs = []
    seqs.append(("Some valid UTF-8 sequences", [
        (True, b"hello\x24world"), (True, b"hello\xc2\xa2world"), (True, b"hello\xe2\x82\xacworld"),
        (True, b"hello\xf0\xa4\xad\xa2world"), (True, _KOSME)]))
    seqs.append(("All prefixes of a valid UTF-8 string that contains multi-byte code points",
                 [(_utf8_valid(_KOSME[:i]), _KOSME[:i]) for i in range(1, len(_KOSME) + 1)]))
    seqs.append(("First possible sequence of a certain length", [
        (True, b"\x00"), (True, b"\xc2\x80"), (True, b"\xe0\xa0\x80"), (True, b"\xf0\x90\x80\x80")]))
    seqs.append(("First possible sequence length 5/6 (invalid codepoints)", [
        (False, b"\xf8\x88\x80\x80\x80"), (False, b"\xfc\x84\x80\x80\x80\x80")]))
    seqs.append(("Last possible sequence of a certain length", [
        (True, b"\x7f"), (True, b"\xdf\xbf"), (True, b"\xef\xbf\xbf"), (True, b"\xf4\x8f\xbf\xbf")]))
    seqs.append(("Last possible sequence length 4/5/6 (invalid codepoints)", [
        (False, b"\xf7\xbf\xbf\xbf"), (False, b"\xfb\xbf\xbf\xbf\xbf"), (False, b"\xfd\xbf\xbf\xbf\xbf\xbf")]))
    seqs.append(("Other boundary conditions", [
        (True, b"\xed\x9f\xbf"), (True, b"\xee\x80\x80"), (True, b"\xef\xbf\xbd"), (True, b"\xf4\x8f\xbf\xbf"),
        (False, b"\xf4\x90\x80\x80")]))
    seqs.append(("Unexpected continuation bytes", [
        (False, b"\x80"), (False, b"\xbf"), (False, b"\x80\xbf"), (False, b"\x80\xbf\x80"),
        (False, b"\x80\xbf\x80\xbf"), (False, b"\x80\xbf\x80\xbf\x80"), (False, b"\x80\xbf\x80\xbf\x80\xbf"),
        (False, bytes(range(0x80, 0xbf)))]))
    lonely = []
    for lo, hi in ((0xc0, 0xdf), (0xe0, 0xef), (0xf0, 0xf7), (0xf8, 0xfb), (0xfc, 0xfd)):
        lonely.append((False, b"".join(bytes([i, 0x20]) for i in range(lo, hi))))
    seqs.append(("Lonely start characters", lonely))
    missing = [b"\xc0", b"\xe0\x80", b"\xf0\x80\x80", b"\xf8\x80\x80\x80", b"\xfc\x80\x80\x80\x80",
               b"\xdf", b"\xef\xbf", b"\xf7\xbf\xbf", b"\xfb\xbf\xbf\xbf", b"\xfd\xbf\xbf\xbf\xbf"]
    seqs.append(("Sequences with last continuation byte missing", [(False, k) for k in missing]))
    seqs.append(("Concatenation of incomplete sequences", [(False, b"".join(missing))]))
    seqs.append(("Impossible bytes", [(False, b"\xfe"), (False, b"\xff"), (False, b"\xfe\xfe\xff\xff")]))
    seqs.append(("Examples of an overlong ASCII character", [
        (False, b"\xc0\xaf"), (False, b"\xe0\x80\xaf"), (False, b"\xf0\x80\x80\xaf"), (False, b"\xf8\x80\x80\x80\xaf"),
        (False, b"\xfc\x80\x80\x80\x80\xaf")]))
    seqs.append(("Maximum overlong sequences", [
        (False, b"\xc1\xbf"), (False, b"\xe0\x9f\xbf"), (False, b"\xf0\x8f\xbf\xbf"), (False, b"\xf8\x87\xbf\xbf\xbf"),
        (False, b"\xfc\x83\xbf\xbf\xbf\xbf")]))
    seqs.append(("Overlong representation of the NUL character", [
        (False, b"\xc0\x80"), (False, b"\xe0\x80\x80"), (False, b"\xf0\x80\x80\x80"), (False, b"\xf8\x80\x80\x80\x80"),
        (False, b"\xfc\x80\x80\x80\x80\x80")]))
    seqs.append(("Single UTF-16 surrogates", [(False, b"\xed" + s) for s in (
        b"\xa0\x80", b"\xad\xbf", b"\xae\x80", b"\xaf\xbf", b"\xb0\x80", b"\xbe\x80", b"\xbf\xbf")]))
    seqs.append(("Paired UTF-16 surrogates", [(False, a + b) for a, b in (
        (b"\xed\xa0\x80", b"\xed\xb0\x80"), (b"\xed\xa0\x80", b"\xed\xbf\xbf"),
        (b"\xed\xad\xbf", b"\xed\xb0\x80"), (b"\xed\xad\xbf", b"\xed\xbf\xbf"),
        (b"\xed\xae\x80", b"\xed\xb0\x80"), (b"\xed\xae\x80", b"\xed\xbf\xbf"),
        (b"\xed\xaf\xbf", b"\xed\xb0\x80"), (b"\xed\xaf\xbf", b"\xed\xbf\xbf"))]))
    nonchars = [(True, b"\xef\xbf\xbe"), (True, b"\xef\xbf\xbf")]
    for z1 in (0xf0, 0xf1, 0xf2, 0xf3, 0xf4):
        for z2 in (0x8f, 0x9f, 0xaf, 0xbf):
            if z1 == 0xf4 and z2 != 0x8f:
                continue            # beyond U+10FFFF
            for z3 in (0xbe, 0xbf):
                zz = bytes([z1, z2, 0xbf, z3])
                if zz not in (b"\xf0\x8f\xbf\xbe", b"\xf0\x8f\xbf\xbf"):   # overlong
                    nonchars.append((True, zz))
    seqs.append(("Non-character code points (valid UTF-8)", nonchars))
    seqs.append(("Unicode specials (i.e. replacement char)", [
        (True, b"\xef\xbf" + bytes([x])) for x in (0xb9, 0xba, 0xbb, 0xbc, 0xbd, 0xbe, 0xbf)]))
    # the validity flags above are the spec's; they must agree with a strict decoder
    for title, items in seqs:
        for valid, b in items:
            assert valid == _utf8_valid(b), (title, b)
    return seqs


class _Utf8Case(Case):
    MAX_DURATION = 0.5
    PAYLOAD = b""
    VALID = True

    def on_open(self):
        if self.VALID:
            _valid_echo(self, self.PAYLOAD)
        else:
            _invalid_fail(self)
        self.p.send_message(self.PAYLOAD, binary=False)
        self.p.kill_after(0.5)


for _i, (_title, _items) in enumerate(utf8_test_sequences(), start=5):
    SUBCATEGORIES["6.%d" % _i] = _title
    for _j, (_valid, _pl) in enumerate(_items, start=1):
        if _valid:
            _d = "Send a text message with payload which is valid UTF-8 in one fragment."
            _e = "The message is echo'ed back to us."
        else:
            _d = "Send a text message with payload which is not valid UTF-8 in one fragment."
            _e = "The connection is failed immediately, since the payload is not valid UTF-8."
        _cid = "6.%d.%d" % (_i, _j)
        register(type("Case_" + _cid.replace(".", "_"), (_Utf8Case,), dict(
            ID=_cid, PAYLOAD=_pl, VALID=_valid,
            DESCRIPTION="%s<br><br>Payload: 0x%s" % (_d, hexs(_pl)), EXPECTATION=_e)))


# ==========================================================================
# 7 Close handling
@case("7.1.1", "Send a message followed by a close frame",
      "Echoed message followed by clean close with normal code.", base=WrongCodeIsFailure, MAX_DURATION=1)
def _(c):
    payload = b"Hello World!"
    c.expected[OK] = [("message", payload, False)]
    c.expected_close = expect_close(True, [CLOSE_NORMAL], True)
    c.p.send_frame(opcode=1, payload=payload)
    c.p.kill_after(1)


def _close_first(cid, desc, exp, then, codes=(CLOSE_NORMAL,), clean=True):
    def on_open(c):
        c.suppress_close = True
        c.expected[OK] = []
        c.expected_close = expect_close(True, codes, clean)
        then(c.p)
        c.p.kill_after(1)
    case(cid, desc, exp, base=WrongCodeIsFailure, MAX_DURATION=1)(on_open)


_close_first("7.1.2", "Send two close frames", "Clean close with normal code. Second close frame ignored.",
             lambda p: (p.send_close(CLOSE_NORMAL), p.send_frame(opcode=8)))
_close_first("7.1.3", "Send a ping after close message", "Clean close with normal code, no pong.",
             lambda p: (p.send_close(CLOSE_NORMAL), p.send_frame(opcode=9)))
_close_first("7.1.4", "Send text message after sending a close frame.",
             "Clean close with normal code. Text message ignored.",
             lambda p: (p.send_close(CLOSE_NORMAL), p.send_frame(opcode=1, payload=b"Hello World!")))
_close_first("7.1.5", "Send message fragment1 followed by close then fragment", "Clean close with normal code.",
             lambda p: (p.send_frame(opcode=1, fin=False, payload=b"fragment1"), p.send_close(CLOSE_NORMAL),
                        p.send_frame(opcode=0, fin=True, payload=b"fragment2")))


@case("7.1.6", "Send 256K message followed by close then a ping",
      "Case outcome depends on implementation defined close behavior. Message and close frame are sent back to "
      "back. If the close frame is processed before the text message write is complete (as can happen in "
      "asynchronous processing models) the close frame is processed first and the text message may not be "
      "received or may only be partially recieved.", MAX_DURATION=1)
def _(c):
    c.suppress_close = True
    payload = b"Hello World!"
    c.expected[OK] = [("message", payload, False)]
    c.expected[NON_STRICT] = []
    c.expected_close = expect_close(True, [CLOSE_NORMAL], True)
    c.p.send_frame(opcode=1, payload=b"BAsd7&jh23", payload_len=256 * 2 ** 10)
    c.p.send_frame(opcode=1, payload=payload)
    c.p.send_close(CLOSE_NORMAL)
    c.p.send_frame(opcode=9)
    c.p.kill_after(1)


def _informational_716(c):
    if c.behavior == OK:
        c.result = "Text message was processed before close."
    elif c.behavior == NON_STRICT:
        c.result = "Close was processed before text message could be returned."
    c.behavior = INFORMATIONAL
    c.behavior_close = INFORMATIONAL


_BY_ID["7.1.6"].post_grade = _informational_716

_close_first("7.3.1", "Send a close frame with payload length 0 (no close code, no close reason)",
             "Clean close with normal code.", lambda p: p.send_close_frame())
_close_first("7.3.2", "Send a close frame with payload length 1", "Clean close with protocol error or drop TCP.",
             lambda p: p.send_close_frame(reason_utf8=b"a"), codes=(CLOSE_PROTOCOL_ERROR,), clean=False)
_close_first("7.3.3", "Send a close frame with payload length 2 (regular close with a code)",
             "Clean close with normal code.", lambda p: p.send_close(CLOSE_NORMAL))
_close_first("7.3.4", "Send a close frame with close code and close reason", "Clean close with normal code.",
             lambda p: p.send_close(CLOSE_NORMAL, "Hello World!"))
_close_first("7.3.5", "Send a close frame with close code and close reason of maximum length (123)",
             "Clean close with normal code.", lambda p: p.send_close(CLOSE_NORMAL, "*" * 123))
_close_first("7.3.6", "Send a close frame with close code and close reason which is too long (124) - total frame "
             "payload 126 octets", "Clean close with protocol error code or dropped TCP connection.",
             lambda p: p.send_close_frame(CLOSE_NORMAL, reason_utf8=b"*" * 124),
             codes=(CLOSE_PROTOCOL_ERROR,), clean=False)
_close_first("7.5.1", "Send a close frame with invalid UTF8 payload",
             "Clean close with protocol error or invalid utf8 code or dropped TCP.",
             lambda p: p.send_close_frame(CLOSE_NORMAL, reason_utf8=_INVALID_631),
             codes=(CLOSE_PROTOCOL_ERROR, CLOSE_INVALID_PAYLOAD), clean=False)
for _i, _code in enumerate([1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999], 1):
    _close_first("7.7.%d" % _i, "Send close with valid close code %d" % _code,
                 "Clean close with normal or echoed code",
                 (lambda code: lambda p: p.send_close_frame(code))(_code), codes=(CLOSE_NORMAL, _code))
for _i, _code in enumerate([0, 999, 1004, 1005, 1006, 1016, 1100, 2000, 2999], 1):
    _close_first("7.9.%d" % _i, "Send close with invalid close code %d" % _code,
                 "Clean close with protocol error code or drop TCP",
                 (lambda code: lambda p: p.send_close_frame(code))(_code), codes=(CLOSE_PROTOCOL_ERROR,), clean=False)


def _informational_713(c):
    c.behavior = INFORMATIONAL
    c.behavior_close = INFORMATIONAL
    c.result = "Actual events are undefined by the spec."


# (sic: Autobahn's 7.13.2 says 65536 but sends 65535, the largest 16-bit code)
for _cid, _desc, _code in (("7.13.1", "Send close with close code 5000", 5000),
                           ("7.13.2", "Send close with close code 65536", 65535)):
    _close_first(_cid, _desc, "Actual events are undefined by the spec.",
                 (lambda code: lambda p: p.send_close_frame(code))(_code),
                 codes=(CLOSE_NORMAL, _code, CLOSE_PROTOCOL_ERROR), clean=False)
    _BY_ID[_cid].post_grade = _informational_713


# ==========================================================================
# 9 Limits/Performance
class _BigMessage(Case):
    HEAVY = True
    DATALEN = 0
    PAYLOAD = b""
    BINARY = False
    WAITSECS = 10
    FRAGSIZE = None     # send_message(fragment_size=...) instead of one frame
    CHOPSIZE = None

    @property
    def kind(self):
        return "binary" if self.BINARY else "text"

    def on_open(self):
        self.report_time = True
        self.behavior = FAILED
        self.expected_close = expect_close(True, [CLOSE_NORMAL], True)
        self.result = "Did not receive message within %d seconds." % self.WAITSECS
        if self.FRAGSIZE is not None:
            self.p.send_message(self.PAYLOAD * (self.DATALEN // len(self.PAYLOAD)), binary=self.BINARY,
                                fragment_size=self.FRAGSIZE)
        else:
            self.p.send_frame(opcode=2 if self.BINARY else 1, payload=self.PAYLOAD, payload_len=self.DATALEN,
                              chopsize=self.CHOPSIZE)
        self.p.close_after(self.WAITSECS)

    def on_message(self, payload, binary):
        if binary != self.BINARY:
            self.result = ("Expected binary message with payload, but got text." if self.BINARY
                           else "Expected text message with payload, but got binary.")
        elif len(payload) != self.DATALEN:
            self.result = "Expected %s message with payload of length %d, but got %d." % (
                self.kind, self.DATALEN, len(payload))
        else:
            # (like Autobahn, only the length is checked; we also check content)
            want = (self.PAYLOAD * (self.DATALEN // len(self.PAYLOAD) + 1))[:self.DATALEN]
            if payload != want:
                self.result = "Received %s message of length %d, but its content differs from what we sent." % (
                    self.kind, len(payload))
            else:
                self.behavior = OK
                self.result = "Received %s message of length %d." % (self.kind, len(payload))
        self.p.send_close(CLOSE_NORMAL)


def _big(cid, desc, exp, **attrs):
    attrs.setdefault("MAX_DURATION", attrs.get("WAITSECS", 10))
    register(type("Case_" + cid.replace(".", "_"), (_BigMessage,), dict(
        ID=cid, DESCRIPTION=desc, EXPECTATION=exp, **attrs)))


_SIZES = [(64 * 2 ** 10, "64 * 2**10 (64k)"), (256 * 2 ** 10, "256 * 2**10 (256k)"), (2 ** 20, "1 * 2**20 (1M)"),
          (4 * 2 ** 20, "4 * 2**20 (4M)"), (8 * 2 ** 20, "8 * 2**20 (8M)"), (16 * 2 ** 20, "16 * 2**20 (16M)")]
for _i, ((_n, _s), _w) in enumerate(zip(_SIZES, (10, 10, 100, 100, 100, 100)), 1):
    _big("9.1.%d" % _i, "Send text message message with payload of length %s." % _s,
         "Receive echo'ed text message (with payload as sent).", DATALEN=_n, PAYLOAD=b"BAsd7&jh23", WAITSECS=_w)
for _i, ((_n, _s), _w) in enumerate(zip(_SIZES, (10, 10, 10, 10, 100, 100)), 1):
    if _i == 5:
        _s = "8 * 2**20 (16M)"     # (sic)
    _big("9.2.%d" % _i, "Send binary message message with payload of length %s." % _s,
         "Receive echo'ed binary message (with payload as sent).", DATALEN=_n, PAYLOAD=b"\x00\xfe\x23\xfa\xf0",
         BINARY=True, WAITSECS=_w)
_FRAGS = [(64, "64"), (256, "256"), (2 ** 10, "1k"), (4 * 2 ** 10, "4k"), (16 * 2 ** 10, "16k"),
          (64 * 2 ** 10, "64k"), (256 * 2 ** 10, "256k"), (2 ** 20, "1M"), (4 * 2 ** 20, "4M")]
for _i, (_f, _s) in enumerate(_FRAGS, 1):
    _len = "4 * 2**20 (8M)" if _i == 9 else "4 * 2**20 (4M)"      # (sic)
    _big("9.3.%d" % _i, "Send fragmented text message message with message payload of length %s. Sent out in "
         "fragments of %s." % (_len, _s), "Receive echo'ed text message (with payload as sent).",
         DATALEN=4 * 2 ** 20, PAYLOAD=b"*", FRAGSIZE=_f, WAITSECS=100)
for _i, (_f, _s) in enumerate(_FRAGS, 1):
    _big("9.4.%d" % _i, "Send fragmented binary message message with message payload of length 4 * 2**20 (4M). "
         "Sent out in fragments of %s." % _s, "Receive echo'ed binary message (with payload as sent).",
         DATALEN=4 * 2 ** 20, PAYLOAD=b"\xfe", BINARY=True, FRAGSIZE=_f, WAITSECS=100)
for _i, _chop in enumerate((64, 128, 256, 512, 1024, 2048), 1):
    _big("9.5.%d" % _i, "Send text message message with payload of length 1 * 2**20 (1M). Sent out data in chops "
         "of %d octets." % _chop, "Receive echo'ed text message (with payload as sent).",
         DATALEN=2 ** 20, PAYLOAD=b"BAsd7&jh23", CHOPSIZE=_chop, WAITSECS=1000)
for _i, _chop in enumerate((64, 128, 256, 512, 1024, 2048), 1):
    _big("9.6.%d" % _i, "Send binary message message with payload of length 1 * 2**20 (1M). Sent out data in chops "
         "of %d octets." % _chop,
         "Receive echo'ed %s message (with payload as sent)." % ("binary" if _i == 1 else "text"),   # (sic)
         DATALEN=2 ** 20, PAYLOAD=b"\x00\xfe\x23\xfa\xf0", BINARY=True, CHOPSIZE=_chop, WAITSECS=1000)


class _RoundTrips(Case):
    HEAVY = True
    LEN = 0
    COUNT = 1000
    WAITSECS = 60
    BINARY = False

    def on_open(self):
        self.report_time = True
        self.behavior = FAILED
        self.expected_close = expect_close(True, [CLOSE_NORMAL], True)
        self.result = "Case did not finish within %d seconds." % self.WAITSECS
        self.p.close_after(self.WAITSECS)
        self.count = 0
        self.send_one()

    def send_one(self):
        if self.BINARY:
            self.p.send_frame(opcode=2, payload=b"\xfe", payload_len=self.LEN)
        else:
            self.p.send_frame(opcode=1, payload=b"*", payload_len=self.LEN)
        self.count += 1

    def on_message(self, payload, binary):
        if binary != self.BINARY or len(payload) != self.LEN:
            self.behavior = FAILED
            self.result = ("Echo'ed message type or length differs from what I sent (got binary = %s, "
                           "payload length = %s)." % (binary, len(payload)))
            self.p.send_close(CLOSE_NORMAL)
        elif self.count < self.COUNT:
            self.send_one()
        else:
            self.behavior = OK
            self.result = "Ok, received all echo'ed messages in time."
            self.p.send_close(CLOSE_NORMAL)


for _sub, _binary in (("9.7", False), ("9.8", True)):
    _mt = "binary" if _binary else "text"
    for _i, (_len, _cnt, _w) in enumerate([(0, 1000, 60), (16, 1000, 60), (64, 1000, 60), (256, 1000, 120),
                                          (1024, 1000, 240), (4096, 1000, 480)], 1):
        _cid = "%s.%d" % (_sub, _i)
        register(type("Case_" + _cid.replace(".", "_"), (_RoundTrips,), dict(
            ID=_cid, LEN=_len, COUNT=_cnt, WAITSECS=_w, BINARY=_binary, MAX_DURATION=_w,
            DESCRIPTION="Send %d %s messages of payload size %d to measure implementation/network RTT (round "
                        "trip time) / latency." % (_cnt, _mt, _len),
            EXPECTATION="Receive echo'ed %s messages (with payload as sent). Timeout case after %d secs." % (
                _mt, _w))))


# ==========================================================================
# 10 Misc
@case("10.1.1", "Send text message with payload of length 65536 auto-fragmented with <b>autoFragmentSize = "
      "1300</b>.", "Receive echo'ed text message (with payload as sent and transmitted frame counts as expected). "
      "Clean close with normal code.", MAX_DURATION=10)
def _(c):
    c.payload = b"*" * 65536
    c.p.auto_fragment_size = 1300
    c.expected[OK] = [("message", c.payload, False)]
    c.expected_close = expect_close(True, [CLOSE_NORMAL], True)
    c.p.send_message(c.payload)
    c.p.kill_after(10)


def _check_frames_10_1_1(c):
    if c.p.connection_was_open:
        want = {0: len(c.payload) // c.p.auto_fragment_size,
                1: 1 if len(c.payload) % c.p.auto_fragment_size else 0}
        got = {0: c.p.tx_frame_stats.get(0, 0), 1: c.p.tx_frame_stats.get(1, 0)}
        if want != got:
            c.behavior = FAILED
            c.result = "Frames transmitted %s does not match what we expected %s." % (got, want)
    else:
        c.behavior = FAILED
        c.result = "WebSocket connection was never open"


_BY_ID["10.1.1"].post_grade = _check_frames_10_1_1


# ==========================================================================
# 12/13 WebSocket compression (permessage-deflate)
class Offer:
    """A client's permessage-deflate offer, parsed the way Autobahn does."""

    def __init__(self, accept_no_context_takeover=True, accept_max_window_bits=False,
                 request_no_context_takeover=False, request_max_window_bits=0):
        self.accept_no_context_takeover = accept_no_context_takeover
        self.accept_max_window_bits = accept_max_window_bits
        self.request_no_context_takeover = request_no_context_takeover
        self.request_max_window_bits = request_max_window_bits

    def __repr__(self):
        return ("Offer(accept_no_context_takeover=%s, accept_max_window_bits=%s, request_no_context_takeover=%s, "
                "request_max_window_bits=%s)" % (self.accept_no_context_takeover, self.accept_max_window_bits,
                                                 self.request_no_context_takeover, self.request_max_window_bits))


class Accept:
    """The server's acceptance of one offer (what it asks of the client)."""

    def __init__(self, offer, request_no_context_takeover=False, request_max_window_bits=0):
        self.offer = offer
        self.request_no_context_takeover = request_no_context_takeover
        self.request_max_window_bits = request_max_window_bits

    def extension_string(self):
        s = "permessage-deflate"
        if self.offer.request_no_context_takeover:
            s += "; server_no_context_takeover"
        if self.offer.request_max_window_bits:
            s += "; server_max_window_bits=%d" % self.offer.request_max_window_bits
        if self.request_no_context_takeover:
            s += "; client_no_context_takeover"
        if self.request_max_window_bits:
            s += "; client_max_window_bits=%d" % self.request_max_window_bits
        return s


def accept1(offers):
    """server accept (requestNoContextTakeover, requestMaxWindowBits): [(False, 0)]"""
    for o in offers:
        return Accept(o)


def accept2(offers):
    """server accept (requestNoContextTakeover, requestMaxWindowBits): [(True, 0)]"""
    for o in offers:
        if o.accept_no_context_takeover:
            return Accept(o, request_no_context_takeover=True)


def accept3(offers):
    """server accept (requestNoContextTakeover, requestMaxWindowBits): [(False, 8)]"""
    for o in offers:
        if o.accept_max_window_bits:
            return Accept(o, request_max_window_bits=8)


def accept4(offers):
    """server accept (requestNoContextTakeover, requestMaxWindowBits): [(False, 15)]"""
    for o in offers:
        if o.accept_max_window_bits:
            return Accept(o, request_max_window_bits=15)


def accept5(offers):
    """server accept (requestNoContextTakeover, requestMaxWindowBits): [(True, 8)]"""
    for o in offers:
        if o.accept_no_context_takeover and o.accept_max_window_bits:
            return Accept(o, request_max_window_bits=8, request_no_context_takeover=True)


def accept6(offers):
    """server accept (requestNoContextTakeover, requestMaxWindowBits): [(True, 15)]"""
    for o in offers:
        if o.accept_no_context_takeover and o.accept_max_window_bits:
            return Accept(o, request_max_window_bits=15, request_no_context_takeover=True)


def accept7(offers):
    """server accept (requestNoContextTakeover, requestMaxWindowBits): [(True, 8), (True, 0), (False, 0)]"""
    return accept5(offers) or accept2(offers) or accept1(offers)


# (payload length, message count, case timeout, auto-fragment size)
MSG_SIZES = [
    (16, 1000, 60, 0), (64, 1000, 60, 0), (256, 1000, 120, 0), (1024, 1000, 240, 0), (4096, 1000, 480, 0),
    (8192, 1000, 480, 0), (16384, 1000, 480, 0), (32768, 1000, 480, 0), (65536, 1000, 480, 0),
    (131072, 1000, 480, 0),
    (8192, 1000, 480, 256), (16384, 1000, 480, 256), (32768, 1000, 480, 256), (65536, 1000, 480, 256),
    (131072, 1000, 480, 256), (131072, 1000, 480, 1024), (131072, 1000, 480, 4096), (131072, 1000, 480, 32768),
]


class _Compression(Case):
    HEAVY = True
    LEN = 16
    COUNT = 1000
    WAITSECS = 60
    AUTOFRAGSIZE = 0
    TESTDATA = None         # key into testdata.DATASETS
    ACCEPT = staticmethod(accept1)

    def init(self):
        self.report_time = True
        self.expected_close = expect_close(True, [CLOSE_NORMAL], True)
        self.ptr = 0
        self.count = 0
        self.data = testdata.get(self.TESTDATA)
        self.binary = testdata.DATASETS[self.TESTDATA]["binary"]

    def pmce_accept(self, offers):
        return self.ACCEPT(offers)

    def on_open(self):
        self.p.auto_fragment_size = self.AUTOFRAGSIZE
        if self.p.pmce is None:
            self.behavior = UNIMPLEMENTED
            self.result = "The client did not negotiate permessage-deflate."
            self.p.send_close(CLOSE_NORMAL)
        else:
            self.behavior = FAILED
            self.result = "Case did not finish within %d seconds." % self.WAITSECS
            self.p.close_after(self.WAITSECS)
            self.send_one()

    def send_one(self):
        n = len(self.data)
        start, end = self.ptr, (self.ptr + self.LEN) % n
        msg = self.data[start:end] if end > start else self.data[start:] + self.data[:end]
        self.ptr = end
        self.expected_hash = hashlib.sha1(msg).digest()
        self.p.send_message(msg, binary=self.binary)
        self.count += 1

    def on_message(self, payload, binary):
        h = hashlib.sha1(payload).digest()
        if binary != self.binary or len(payload) != self.LEN or h != self.expected_hash:
            self.behavior = FAILED
            self.p.send_close(CLOSE_NORMAL)
            if binary != self.binary:
                self.result = ("Echo'ed message type differs from what I sent (got binary {0}, expected binary "
                               "{1}).".format(binary, self.binary))
            elif len(payload) != self.LEN:
                self.result = ("Echo'ed message length differs from what I sent (got length {0}, expected length "
                               "{1}).".format(len(payload), self.LEN))
            else:
                self.result = ("Echo'ed message contents differs from what I sent (got SHA1 {0}, expected SHA1 "
                               "{1}).".format(hexs(h), hexs(self.expected_hash)))
        elif self.count < self.COUNT:
            self.send_one()
        else:
            self.behavior = OK
            self.result = "Ok, received all echo'ed messages in time."
            self.traffic = dict(self.p.traffic)
            self.p.send_close(CLOSE_NORMAL)


for _j, _key in enumerate(testdata.ORDER_12, 1):
    _ds = testdata.DATASETS[_key]
    SUBCATEGORIES["12.%d" % _j] = "%s (%s, %d bytes)" % (_ds["desc"], "binary" if _ds["binary"] else "utf8",
                                                         _ds["size"])
    for _i, (_len, _cnt, _w, _afs) in enumerate(MSG_SIZES, 1):
        _cid = "12.%d.%d" % (_j, _i)
        register(type("Case_" + _cid.replace(".", "_"), (_Compression,), dict(
            ID=_cid, LEN=_len, COUNT=_cnt, WAITSECS=_w, AUTOFRAGSIZE=_afs, TESTDATA=_key,
            ACCEPT=staticmethod(accept1), CLIENT_OFFERS=[(False, 0)], MAX_DURATION=_w,
            DESCRIPTION="Send %d compressed messages each of payload size %d, auto-fragment to %s octets. Use "
                        "default permessage-deflate offer." % (_cnt, _len, _afs),
            EXPECTATION="Receive echo'ed messages (with payload as sent). Timeout case after %d secs." % _w)))

# the client offers Autobahn's own client would make in these cases (in
# client mode they only name the cases, the server's accept decides; in server
# mode, fuzzingclient.py, they are what the fuzzing client offers)
_DEFLATE_PARAMS = [
    (accept1, [(False, 0)]), (accept2, [(True, 0)]), (accept3, [(False, 8)]), (accept4, [(False, 15)]),
    (accept5, [(True, 8)]), (accept6, [(True, 15)]), (accept7, [(True, 8), (True, 0), (False, 0)]),
]
for _j, (_acc, _co) in enumerate(_DEFLATE_PARAMS, 1):
    _ds = testdata.DATASETS["json_data1"]
    _co_desc = "client offers (requestNoContextTakeover, requestMaxWindowBits): %s" % (
        "[" + ", ".join("(%s, %d)" % x for x in _co) + "]")
    SUBCATEGORIES["13.%d" % _j] = "%s (%s, %d bytes) - %s / %s" % (
        _ds["desc"], "binary" if _ds["binary"] else "utf8", _ds["size"], _co_desc, _acc.__doc__.strip())
    for _i, (_len, _cnt, _w, _afs) in enumerate(MSG_SIZES, 1):
        _cid = "13.%d.%d" % (_j, _i)
        register(type("Case_" + _cid.replace(".", "_"), (_Compression,), dict(
            ID=_cid, LEN=_len, COUNT=_cnt, WAITSECS=_w, AUTOFRAGSIZE=_afs, TESTDATA="json_data1",
            ACCEPT=staticmethod(_acc), CLIENT_OFFERS=list(_co), MAX_DURATION=_w,
            DESCRIPTION="Send %d compressed messages each of payload size %d, auto-fragment to %s octets. Use "
                        "permessage-deflate %s" % (_cnt, _len, _afs, _co_desc),
            EXPECTATION="Receive echo'ed messages (with payload as sent). Timeout case after %d secs." % _w)))


# ==========================================================================
def id_tuple(case_id):
    return tuple(int(x) for x in case_id.split("."))


CASES.sort(key=lambda c: id_tuple(c.ID))
CASE_IDS = [c.ID for c in CASES]


def by_id(case_id):
    return _BY_ID[case_id]


def resolve_patterns(patterns, ids=None):
    """Autobahn's case patterns: '*' is a wildcard, '.' is literal; a pattern
    without '*' names one case. ids: the catalogue (default: client mode's;
    fuzzingclient passes server mode's, which adds cases M.*)."""
    import re
    ids = CASE_IDS if ids is None else ids
    known = set(ids)
    out = []
    for pat in patterns:
        pat = pat.strip()
        if not pat:
            continue
        if "*" in pat:
            rx = re.compile(pat.replace(".", r"\.").replace("*", ".*") + "$")
            out.extend(cid for cid in ids if rx.match(cid))
        elif pat in known:
            out.append(pat)
        else:
            raise ValueError("unknown case id %r" % pat)
    return out


def select(cases=None, exclude=None, ids=None):
    """The cases matching the patterns `cases` (all if None) and not
    `exclude`, in catalogue order."""
    ids = CASE_IDS if ids is None else ids
    chosen = set(resolve_patterns(cases, ids) if cases else ids)
    if exclude:
        chosen -= set(resolve_patterns(exclude, ids))
    return [cid for cid in ids if cid in chosen]


def category_of(case_id):
    return case_id.split(".")[0]
