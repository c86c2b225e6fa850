"""Payloads of the compression cases (categories 12 and 13).

Autobahn sends slices of five files shipped with the testsuite (Goethe's
Faust, an 8-bit bitmap picture, a PDF, a JSON and an HTML report).  Those
files are not redistributed here; instead each one is replaced by synthetic
data of the same size and of the same kind (German prose, an 8-bit BMP with a
smooth picture, a PDF whose streams are already compressed, a JSON report and
an HTML report), generated deterministically, so compressibility is alike and
the JSON/HTML data, sent as text messages, is pure ASCII as the originals are
(any slice of it is valid UTF-8).
"""

import random
import struct
import zlib

# key -> description, kind, size (the sizes of Autobahn's files)
DATASETS = {
    "gutenberg_faust": {"desc": "Human readable text, Goethe's Faust I (German)", "binary": True, "size": 222218},
    "lena512": {"desc": "Lena Picture, Bitmap 512x512 bw", "binary": True, "size": 263222},
    "ooms": {"desc": "A larger PDF", "binary": True, "size": 1042328},
    "json_data1": {"desc": "Large JSON data file", "binary": False, "size": 194056},
    "html_data1": {"desc": "Large HTML file", "binary": False, "size": 379709},
}

# Autobahn builds 12.1 ... 12.5 by iterating a Python 2 dict; this is the
# order that iteration yields (so 12.1 is the JSON file, 12.5 the PDF).
ORDER_12 = ["json_data1", "lena512", "gutenberg_faust", "html_data1", "ooms"]

_cache = {}


def _fit(data, size):
    data = bytes(data)
    if len(data) < size:
        data = (data * (size // max(1, len(data)) + 1))
    return data[:size]


_WORDS = ("und der die das ich du er sie es nicht mit ist ein eine zu den von sich auf wie mir mich dich dir "
          "wohl noch nur so auch wenn was wer wo hier dort nun doch schon ganz gar Herz Geist Welt Himmel Erde "
          "Nacht Tag Liebe Leben Teufel Gott Mensch Seele Natur Wissen Kraft Zeit Augenblick verweile schön "
          "Gretchen Faust Mephistopheles Wagner Marthe Valentin Studierzimmer Hexenküche Kerker Straße Garten "
          "Brüder Blüte Flamme fühlen glühen träumen über für Mädchen Schüler Bürger Küche Schlüssel grüßen "
          "Hölle öffnen möchte müssen wär käm hätt Frühling Glück Stürme höher").split()


def _faust(size):
    rnd = random.Random(2229)
    lines = []
    speakers = ["FAUST.", "MEPHISTOPHELES.", "MARGARETE.", "WAGNER.", "CHOR DER ENGEL.", "MARTHE.", "SCHÜLER."]
    total = 0
    while total < size:
        if rnd.random() < 0.12:
            line = "\r\n" + rnd.choice(speakers)
        else:
            n = rnd.randint(4, 9)
            words = [rnd.choice(_WORDS) for _ in range(n)]
            words[0] = words[0][:1].upper() + words[0][1:]
            line = " ".join(words) + rnd.choice([",", ".", "!", "?", ";", ""])
        b = (line + "\r\n").encode("utf-8")
        lines.append(b)
        total += len(b)
    return _fit(b"".join(lines), size)


def _bitmap(size):
    w = h = 512
    palette = b"".join(bytes([i, i, i, 0]) for i in range(256))
    offset = 14 + 40 + len(palette)
    header = b"BM" + struct.pack("<IHHI", offset + w * h, 0, 0, offset)
    info = struct.pack("<IiiHHIIiiII", 40, w, h, 1, 8, 0, w * h, 2835, 2835, 256, 256)
    rnd = random.Random(512)
    rows = []
    for y in range(h):
        row = bytearray(w)
        for x in range(w):
            v = (x * 3 + y * 2 + ((x * y) >> 9) + (((x - 256) ** 2 + (y - 256) ** 2) >> 10)) & 0xFF
            row[x] = (v + rnd.randint(-6, 6)) & 0xFF
        rows.append(bytes(row))
    return _fit(header + info + palette + b"".join(rows), size)


def _pdf(size):
    rnd = random.Random(105)
    out = [b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n"]
    n = 1
    total = len(out[0])
    while total < size:
        text = " ".join(rnd.choice(("BT /F1 10 Tf", "ET", "Td", "Tj", "(network)", "(protocol)", "(latency)",
                                    "(measurement)", "q", "Q", "cm", "re f", "0 0 1 rg"))
                        for _ in range(rnd.randint(200, 600))).encode("ascii")
        stream = zlib.compress(text + rnd.randbytes(rnd.randint(2000, 12000)), 9)
        obj = b"%d 0 obj\n<< /Length %d /Filter /FlateDecode >>\nstream\n" % (n, len(stream)) + stream + \
            b"\nendstream\nendobj\n"
        out.append(obj)
        total += len(obj)
        n += 1
    return _fit(b"".join(out), size)


def _case_ids():
    ids = []
    for a, b in ((1, 8), (2, 11), (3, 7), (5, 20)):
        for i in range(1, b + 1):
            ids.append("%d.%d" % (a, i) if a in (2, 3, 5) else "1.%d.%d" % (1 + (i > 4), i))
    for i in range(5, 24):
        for j in range(1, 12):
            ids.append("6.%d.%d" % (i, j))
    return ids


def _json(size):
    rnd = random.Random(1)
    agents = ["AutobahnPython/0.6.0", "Chrome/29.0.1531.1", "Firefox/24.0-20130607", "wsc/0.1"]
    parts = ["{\n"]
    total = 2
    ai = 0
    while total < size:
        agent = agents[ai % len(agents)] + ("" if ai < len(agents) else "-%d" % ai)
        ai += 1
        parts.append('   "%s": {\n' % agent)
        for cid in _case_ids():
            code = rnd.choice(("1000", "1002", "1007", "null"))
            s = ('      "%s": {\n         "behavior": "%s",\n         "behaviorClose": "OK",\n'
                 '         "duration": %d,\n         "remoteCloseCode": %s,\n'
                 '         "reportfile": "%s_case_%s.json"\n      },\n') % (
                cid, rnd.choice(("OK", "OK", "OK", "NON-STRICT", "INFORMATIONAL")), rnd.randint(1, 2000), code,
                agent.lower().replace("/", "_").replace(".", "_"), cid.replace(".", "_"))
            parts.append(s)
            total += len(s)
        parts.append("   },\n")
    return _fit("".join(parts).encode("ascii"), size)


def _html(size):
    rnd = random.Random(2)
    agents = ["autobahnpython_0_6_0", "chrome_29_0_1531_1", "firefox_24_0_20130607"]
    parts = ["<!DOCTYPE html>\n<html>\n   <head>\n      <meta charset=\"utf-8\" />\n   </head>\n   <body>\n"
             "      <table id=\"agent_case_results\">\n"]
    total = len(parts[0])
    while total < size:
        for cid in _case_ids():
            s = ['         <tr class="agent_case_result_row">\n',
                 '            <td class="case"><a href="#case_desc_%s">Case %s</a></td>\n' % (
                     cid.replace(".", "_"), cid)]
            for a in agents:
                ok = rnd.random() < 0.9
                s.append('            <td class="%s"><a href="%s_case_%s.html">%s</a></td><td class="close '
                         'close_hide %s"><span class="close_code">%s</span></td>\n' % (
                             "case_ok" if ok else "case_non_strict", a, cid.replace(".", "_"),
                             "Pass" if ok else "Non-Strict", "case_ok", rnd.choice(("1000", "1007", "None"))))
            s.append("         </tr>\n")
            s = "".join(s)
            parts.append(s)
            total += len(s)
    return _fit("".join(parts).encode("ascii"), size)


_MAKERS = {"gutenberg_faust": _faust, "lena512": _bitmap, "ooms": _pdf, "json_data1": _json,
           "html_data1": _html}


def get(key):
    if key not in _cache:
        data = _MAKERS[key](DATASETS[key]["size"])
        assert len(data) == DATASETS[key]["size"]
        if not DATASETS[key]["binary"]:
            data.decode("ascii")
        _cache[key] = data
    return _cache[key]


if __name__ == "__main__":
    for k in ORDER_12:
        d = get(k)
        print("%-16s %8d bytes, deflate ratio %.3f" % (k, len(d), len(zlib.compress(d)) / len(d)))
