#!/usr/bin/env python3
"""check_pages.py SOURCE_DIR [MAN3_BUILD_DIR] - the API reference covers the API.

Checks, and lists every failure before failing:
  - every public function of include/wsc/*.h (each WSC_API declaration, and
    the static inline helpers) is named on exactly one page's NAME line;
  - every name on a function page's NAME line is such a function;
  - every page has the required sections, its title is its file name, and
    the SYNOPSIS of a function page includes the header and carries each
    WSC_API prototype exactly as declared (whitespace aside);
  - every function page's EXAMPLE starts with a run tag (see
    tests/docs/CMakeLists.txt), and every "name(3)" it cites exists;
  - when MAN3_BUILD_DIR exists (scdoc was found): each function has
    MAN3_BUILD_DIR/<name>.3, either the page itself or a ".so man3/<page>.3"
    alias to a page that exists.
"""
import glob
import os
import re
import sys

FUNC_SECTIONS = ["NAME", "SYNOPSIS", "DESCRIPTION", "RETURN VALUE", "EXAMPLE", "SEE ALSO"]
OVERVIEW_SECTIONS = ["NAME", "DESCRIPTION", "SEE ALSO"]
RUN_TAG = re.compile(r"^/\* (run: \./prog( ws://\S+)?|compile only: .+) \*/$")


def norm(s):
    s = re.sub(r"\s+", " ", s).strip()
    s = re.sub(r"\s*([(),*\[\]])\s*", r"\1", s)
    return s


def public_functions(src):
    """{name: (header, prototype or None for static inline)}"""
    funcs = {}
    for h in sorted(glob.glob(os.path.join(src, "include", "wsc", "*.h"))):
        text = open(h, encoding="utf-8").read()
        text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
        text = re.sub(r"//[^\n]*", " ", text)
        base = os.path.basename(h)
        for m in re.finditer(r"(?<!define )\bWSC_API\s+([^;{}]*?)\s*;", text):
            decl = m.group(1)
            name = re.search(r"(\w+)\s*\(", decl).group(1)
            funcs[name] = (base, norm(decl) + ";")
        for m in re.finditer(r"\bstatic\s+inline\s+[^;{}()]*?\b(\w+)\s*\(", text):
            funcs[m.group(1)] = (base, None)
    return funcs


def sections(text):
    out, cur = {}, None
    for line in text.splitlines():
        m = re.match(r"^# (.+?)\s*$", line)
        if m:
            cur = m.group(1)
            out[cur] = []
        elif cur:
            out[cur].append(line)
    return {k: "\n".join(v) for k, v in out.items()}


def main():
    src = sys.argv[1]
    build = sys.argv[2] if len(sys.argv) > 2 else None
    funcs = public_functions(src)
    errors = []
    owner = {}  # function -> page
    pages = {}  # page -> names
    for path in sorted(glob.glob(os.path.join(src, "docs", "man3", "*.scd"))):
        page = os.path.basename(path)[:-4]
        text = open(path, encoding="utf-8").read()
        first = text.splitlines()[0] if text else ""
        if not first.startswith(page + "(3)"):
            errors.append("%s: the title line must start with %s(3)" % (page, page))
        sec = sections(text)
        name_line = next((l for l in sec.get("NAME", "").splitlines() if l.strip()), "")
        if " - " not in name_line:
            errors.append("%s: NAME must read 'name, name - what they do'" % page)
        names = [n.strip() for n in name_line.split(" - ")[0].split(",") if n.strip()]
        pages[page] = names
        overview = not page.startswith("wsc_")
        if not overview and (not names or names[0] != page):
            errors.append("%s: the first name on the NAME line must be the page's own" % page)
        for s in OVERVIEW_SECTIONS if overview else FUNC_SECTIONS:
            if s not in sec:
                errors.append("%s: no '# %s' section" % (page, s))
        if overview:
            if "EXAMPLE" in sec and not re.search(r"^```[^\n]*\n/\* (run|compile only):", sec["EXAMPLE"], re.M):
                errors.append("%s: an EXAMPLE must start with a run tag" % page)
            continue
        syn = norm(sec.get("SYNOPSIS", ""))
        for n in names:
            if n not in funcs:
                errors.append("%s: names %s, which is no public function of include/wsc/*.h" % (page, n))
                continue
            if n in owner:
                errors.append("%s: %s is already documented on %s" % (page, n, owner[n]))
            owner[n] = page
            header, proto = funcs[n]
            if "#include <wsc/%s>" % header not in sec.get("SYNOPSIS", ""):
                errors.append("%s: SYNOPSIS lacks #include <wsc/%s> (for %s)" % (page, header, n))
            if proto and proto not in syn:
                errors.append("%s: SYNOPSIS does not carry the declaration of %s: %s" % (page, n, proto))
            elif not proto and n + "(" not in syn:
                errors.append("%s: SYNOPSIS does not show %s" % (page, n))
        ex = sec.get("EXAMPLE", "")
        m = re.search(r"^```[^\n]*\n([^\n]*)", ex, re.M)
        if not m or not RUN_TAG.match(m.group(1).strip()):
            errors.append("%s: EXAMPLE must be a ``` block whose first line is a run tag "
                          "(/* run: ./prog */, /* run: ./prog ws://127.0.0.1:8080/ */ or "
                          "/* compile only: why */)" % page)
    for n in sorted(set(funcs) - set(owner)):
        errors.append("%s (%s) has no page: add it to a page's NAME line" % (n, funcs[n][0]))
    known = set(owner) | set(pages)
    for page in pages:
        text = open(os.path.join(src, "docs", "man3", page + ".scd"), encoding="utf-8").read()
        for ref in re.findall(r"\*([\w-]+)\*\(3\)", text):
            if ref.startswith("wsc") and ref not in known:
                errors.append("%s: cites %s(3), which has no page" % (page, ref))
    if build and os.path.isdir(build):
        for n in sorted(owner):
            f = os.path.join(build, n + ".3")
            if not os.path.exists(f):
                errors.append("%s: not generated (run the build: target wsc_man3)" % f)
                continue
            body = open(f, encoding="utf-8").read()
            if owner[n] != n:
                if body.strip() != ".so man3/%s.3" % owner[n]:
                    errors.append("%s: should be the alias '.so man3/%s.3'" % (f, owner[n]))
            elif not body.startswith(".\\\""):
                errors.append("%s: not an scdoc-generated page" % f)
    else:
        print("note: %s not present (no scdoc): generated pages not checked" % build)
    for e in errors:
        print("FAIL", e)
    print("%d public functions, %d pages (%d function pages), %d problem(s)"
          % (len(funcs), len(pages), sum(1 for p in pages if p.startswith("wsc_")), len(errors)))
    sys.exit(1 if errors else 0)


if __name__ == "__main__":
    main()
